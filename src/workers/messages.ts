// Control-plane messages between the supervisor (main thread) and engine threads (DESIGN §3):
// session hand-off and close, statistics, supervision (peer up/down), shutdown. They travel msgpackr-encoded over
// MessagePorts and never on the descriptor rings. Every message is a member of one discriminated
// union, and decodeControl checks the shape against a table before any code sees it, so a
// message from another thread is never `any`.

import { Packr } from 'msgpackr';

/** JSON-like values (what the login phase settled, handed to the session's thread). */
export type ConfigValue =
  | string
  | number
  | boolean
  | null
  | readonly ConfigValue[]
  | { readonly [key: string]: ConfigValue };

export interface StatsRequest {
  readonly type: 'statsRequest';
  readonly requestId: number;
}
/**
 * One unit's counters as its home thread holds them (src/engine/lu-statistics.ts), read on
 * demand: the data path only increments numbers, nothing is sent per command (DESIGN.md §8a).
 */
export interface UnitStats {
  readonly device: string;
  readonly blockSize: number;
  /** Commands answered, any status. */
  readonly commands: number;
  readonly readCommands: number;
  readonly writeCommands: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** CHECK CONDITION answers by sense key 0h..Fh (SPC-4 4.5.6). */
  readonly checkConditions: readonly number[];
  /** Other non-GOOD statuses (BUSY, RESERVATION CONFLICT, TASK SET FULL, ...). */
  readonly otherErrors: number;
  /**
   * Commands by transfer size and task-set latency, flat: size class s (TRANSFER_SIZE_BOUNDS_BYTES,
   * then larger) times latency bucket i (LATENCY_BOUNDS_US, then slower) at s * LATENCY_BUCKETS + i.
   */
  readonly latencyBuckets: readonly number[];
  /** Latency summed per size class, nanoseconds. */
  readonly latencySumNs: readonly number[];
  /** Tasks in the task set now (SAM-5 8). */
  readonly taskSetDepth: number;
  /** A SANITIZE under way: its progress indication, a fraction of 65536 (SPC-4 4.5.2.4.4); -1 when none. */
  readonly sanitizeProgress: number;
}
/**
 * One session's statistics as its engine thread holds them (src/engine/nexus-statistics.ts and
 * the transport's connection counters), read on demand like UnitStats.
 */
export interface SessionStats {
  /** The session registry's key (the supervisor joins initiator, ISID and TSIH on it). */
  readonly sessionKey: string;
  readonly commands: number;
  readonly readCommands: number;
  readonly writeCommands: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly checkConditions: readonly number[];
  readonly otherErrors: number;
  /** As UnitStats: by transfer size and latency, from the command's arrival to its answer. */
  readonly latencyBuckets: readonly number[];
  readonly latencySumNs: readonly number[];
  /** Commands of the session outstanding now (received, not yet answered). */
  readonly taskSetDepth: number;
  /** Each connection's counters by name (the transport's: PDUs and octets by kind, digest errors...). */
  readonly connections: readonly { readonly cid: number; readonly counters: { readonly [name: string]: number } }[];
}
export interface StatsReply {
  readonly type: 'statsReply';
  readonly requestId: number;
  readonly threadIndex: number;
  /** Named counters (descriptors delivered, batches, undeliverable, actors, ...). */
  readonly counters: { readonly [name: string]: number };
  /** The thread's home units. */
  readonly units: readonly UnitStats[];
  /** The sessions the thread hosts. */
  readonly sessions: readonly SessionStats[];
}
/**
 * Supervisor → the thread homing a unit: one operation on that unit the control socket asks for
 * (src/workers/unit-ops.ts: a medium changer's mail slots, a unit's ALUA states), carried out
 * where the unit lives. `args` is the operation's own plain data.
 */
export interface UnitRequest {
  readonly type: 'unitRequest';
  readonly requestId: number;
  readonly device: string;
  readonly op: string;
  readonly args: ConfigValue;
}
/** The answer: `error` is a NexusError code ('' when it went through), `result` the operation's value. */
export interface UnitReply {
  readonly type: 'unitReply';
  readonly requestId: number;
  readonly error: string;
  readonly message: string;
  readonly result: ConfigValue;
}
/** Sent once by an engine thread when it is attached to its rings and serves. */
export interface ThreadReady {
  readonly type: 'threadReady';
  readonly threadIndex: number;
}
export interface Shutdown {
  readonly type: 'shutdown';
  readonly reason: string;
}

/** An engine thread flushed and closed its backstores (answer to shutdown). */
export interface ThreadClosed {
  readonly type: 'threadClosed';
  readonly threadIndex: number;
  readonly error: string;
}

/** What the login phase settled for a session (RFC 7143 values after the final Login Response). */
export interface SessionHandOffState {
  /** Registry key of the session (session-registry.ts). */
  readonly sessionKey: string;
  readonly targetName: string;
  readonly initiatorName: string;
  /** ISID as 12 hex digits. */
  readonly isid: string;
  readonly tsih: number;
  readonly cid: number;
  readonly tpgt: number;
  /** The portal the session logged in on, as the topology spells it ('' for none). */
  readonly portal: string;
  readonly statSN: number;
  readonly expCmdSN: number;
  readonly maxCmdSN: number;
  /** Negotiated session and connection parameters (RFC 7143 13), key → value. */
  readonly params: ConfigValue;
}
/**
 * A connection that reached the full feature phase on the supervisor, handed to an engine thread
 * (DESIGN §3): `fd` is a duplicate of the socket's descriptor, opened there with net.Socket.
 */
export interface ConnectionHandOff extends SessionHandOffState {
  readonly type: 'connectionHandOff';
  readonly handOffId: number;
  readonly fd: number;
  /** Name the transport registered its session factory under (session-actor.ts). */
  readonly fabric: string;
  /** Bytes the supervisor read past the login: the thread processes them before the socket's. */
  readonly pending: Uint8Array;
}
export interface HandOffAccepted {
  readonly type: 'handOffAccepted';
  readonly handOffId: number;
  readonly threadIndex: number;
  /** '' when the thread owns the connection; otherwise it closed the descriptor. */
  readonly error: string;
}
/** Supervisor → hosting thread: end a session (reinstatement, logout by the supervisor, shutdown). */
export interface SessionClose {
  readonly type: 'sessionClose';
  readonly sessionKey: string;
  readonly reason: string;
}
/** Hosting thread → supervisor: a session ended (logout, connection loss, closed on request). */
export interface SessionEnded {
  readonly type: 'sessionEnded';
  readonly sessionKey: string;
  readonly threadIndex: number;
  readonly reason: string;
}
/**
 * Supervisor → engine thread: ask every hosted session's initiator to log out (RFC 7143 11.9.1
 * Async logout request, shutdown), giving it `seconds` to do so.
 */
export interface SessionLogoutRequest {
  readonly type: 'sessionLogoutRequest';
  readonly seconds: number;
}
/**
 * Supervisor → hosting thread: ask one session's initiator to log out within `seconds` (RFC 7143
 * 11.9.1 Async logout request; the control plane's forced logout).
 */
export interface SessionLogout {
  readonly type: 'sessionLogout';
  readonly sessionKey: string;
  readonly seconds: number;
}
/** Supervisor → engine threads: engine thread `threadIndex` died (peerDown) or serves again (peerUp). */
export interface PeerDown {
  readonly type: 'peerDown';
  readonly threadIndex: number;
}
/**
 * Engine thread → supervisor: it handled peerDown for `threadIndex` (failed what it had in flight
 * there, dropped unread what the dead thread had sent it). Once every survivor said so, no live
 * thread can take up a pool buffer of the dead thread and the supervisor reclaims them.
 */
export interface PeerDownDone {
  readonly type: 'peerDownDone';
  readonly threadIndex: number;
  readonly fromThread: number;
}
export interface PeerUp {
  readonly type: 'peerUp';
  readonly threadIndex: number;
}
/** Data that fits no pool buffer between two engine threads, relayed by the supervisor (rare). */
export interface MeshSpill {
  readonly type: 'meshSpill';
  readonly fromThread: number;
  readonly toThread: number;
  readonly toActor: number;
  readonly sequence: number;
  readonly bytes: Uint8Array;
}

/**
 * Supervisor → mesh member: apply one live topology change (reconfigure.ts); answered by
 * `reconfigured` with '' or the error that kept it from being applied.
 */
export interface Reconfigure {
  readonly type: 'reconfigure';
  readonly requestId: number;
  readonly change: ConfigValue;
}
export interface Reconfigured {
  readonly type: 'reconfigured';
  readonly requestId: number;
  readonly threadIndex: number;
  readonly error: string;
}

export type ControlMessage =
  | Reconfigure
  | Reconfigured
  | ConnectionHandOff
  | HandOffAccepted
  | SessionClose
  | SessionEnded
  | SessionLogoutRequest
  | SessionLogout
  | PeerDown
  | PeerDownDone
  | PeerUp
  | MeshSpill
  | ThreadClosed
  | StatsRequest
  | StatsReply
  | UnitRequest
  | UnitReply
  | ThreadReady
  | Shutdown;

export type ControlType = ControlMessage['type'];

type FieldKind = 'int' | 'string' | 'config' | 'counters' | 'bytes' | 'units' | 'sessions';

/** One row per message type: its fields and what each must hold. */
const SHAPES: { readonly [T in ControlType]: { readonly [field: string]: FieldKind } } = {
  connectionHandOff: {
    handOffId: 'int', fd: 'int', fabric: 'string', sessionKey: 'string', targetName: 'string', initiatorName: 'string', isid: 'string',
    tsih: 'int', cid: 'int', tpgt: 'int', portal: 'string', statSN: 'int', expCmdSN: 'int', maxCmdSN: 'int', params: 'config', pending: 'bytes',
  },
  handOffAccepted: { handOffId: 'int', threadIndex: 'int', error: 'string' },
  sessionClose: { sessionKey: 'string', reason: 'string' },
  sessionEnded: { sessionKey: 'string', threadIndex: 'int', reason: 'string' },
  sessionLogoutRequest: { seconds: 'int' },
  sessionLogout: { sessionKey: 'string', seconds: 'int' },
  peerDown: { threadIndex: 'int' },
  peerDownDone: { threadIndex: 'int', fromThread: 'int' },
  peerUp: { threadIndex: 'int' },
  meshSpill: { fromThread: 'int', toThread: 'int', toActor: 'int', sequence: 'int', bytes: 'bytes' },
  threadClosed: { threadIndex: 'int', error: 'string' },
  statsRequest: { requestId: 'int' },
  statsReply: { requestId: 'int', threadIndex: 'int', counters: 'counters', units: 'units', sessions: 'sessions' },
  unitRequest: { requestId: 'int', device: 'string', op: 'string', args: 'config' },
  unitReply: { requestId: 'int', error: 'string', message: 'string', result: 'config' },
  threadReady: { threadIndex: 'int' },
  shutdown: { reason: 'string' },
  reconfigure: { requestId: 'int', change: 'config' },
  reconfigured: { requestId: 'int', threadIndex: 'int', error: 'string' },
};

export type DecodeResult =
  | { readonly ok: true; readonly msg: ControlMessage }
  | { readonly ok: false; readonly error: string };

function isRecord(v: unknown): v is { readonly [k: string]: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isConfig(v: unknown, depth: number): boolean {
  if (depth > 32) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isConfig(x, depth + 1));
  if (isRecord(v)) return Object.values(v).every((x) => isConfig(x, depth + 1));
  return false;
}

const UNIT_NUMBERS = ['blockSize', 'commands', 'readCommands', 'writeCommands', 'readBytes', 'writeBytes', 'otherErrors', 'taskSetDepth', 'sanitizeProgress'] as const;
const UNIT_ARRAYS = ['checkConditions', 'latencyBuckets', 'latencySumNs'] as const;

function isUnitStats(v: unknown): boolean {
  if (!isRecord(v) || typeof v.device !== 'string') return false;
  if (Object.keys(v).length !== 1 + UNIT_NUMBERS.length + UNIT_ARRAYS.length) return false;
  return UNIT_NUMBERS.every(k => typeof v[k] === 'number')
    && UNIT_ARRAYS.every(k => Array.isArray(v[k]) && (v[k] as unknown[]).every(x => typeof x === 'number'));
}

const SESSION_NUMBERS = ['commands', 'readCommands', 'writeCommands', 'readBytes', 'writeBytes', 'otherErrors', 'taskSetDepth'] as const;
const SESSION_ARRAYS = ['checkConditions', 'latencyBuckets', 'latencySumNs'] as const;

function isCounters(v: unknown): boolean {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'number');
}

function isSessionStats(v: unknown): boolean {
  if (!isRecord(v) || typeof v.sessionKey !== 'string' || !Array.isArray(v.connections)) return false;
  if (Object.keys(v).length !== 2 + SESSION_NUMBERS.length + SESSION_ARRAYS.length) return false;
  return SESSION_NUMBERS.every(k => typeof v[k] === 'number')
    && SESSION_ARRAYS.every(k => Array.isArray(v[k]) && (v[k] as unknown[]).every(x => typeof x === 'number'))
    && (v.connections as unknown[]).every(c => isRecord(c) && typeof c.cid === 'number' && isCounters(c.counters) && Object.keys(c).length === 2);
}

function fieldOk(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'config':
      return isConfig(v, 0);
    case 'counters':
      return isCounters(v);
    case 'bytes':
      return v instanceof Uint8Array;
    case 'units':
      return Array.isArray(v) && v.every(isUnitStats);
    case 'sessions':
      return Array.isArray(v) && v.every(isSessionStats);
  }
}

function isControlType(t: unknown): t is ControlType {
  return typeof t === 'string' && Object.prototype.hasOwnProperty.call(SHAPES, t);
}

/** Checks an already-decoded value against the message table. */
export function validateControl(v: unknown): DecodeResult {
  if (!isRecord(v)) return { ok: false, error: 'control message is not a map' };
  const t = v.type;
  if (!isControlType(t)) return { ok: false, error: `unknown control message type ${String(t)}` };
  const shape = SHAPES[t];
  for (const [field, kind] of Object.entries(shape)) {
    if (!fieldOk(kind, v[field])) return { ok: false, error: `${t}.${field} is not a valid ${kind}` };
  }
  for (const k of Object.keys(v)) {
    if (k !== 'type' && !(k in shape)) return { ok: false, error: `${t} has unexpected field ${k}` };
  }
  // Shape checked field by field against SHAPES, which mirrors the ControlMessage union.
  return { ok: true, msg: v as unknown as ControlMessage };
}

// Records on (repeated keys become a compact record), structured clone off (plain data only);
// plain msgpack maps from other encoders decode as objects too.
const packr = new Packr({ structuredClone: false, useRecords: true, mapsAsObjects: true });

/** Encodes to a fresh, exactly sized Uint8Array whose buffer can be transferred. */
export function encodeControl(msg: ControlMessage): Uint8Array {
  const packed = packr.pack(msg);
  return Uint8Array.prototype.slice.call(packed);
}

export function decodeControl(bytes: Uint8Array): DecodeResult {
  let v: unknown;
  try {
    v = packr.unpack(bytes);
  } catch (e) {
    return { ok: false, error: `undecodable control message: ${(e as Error).message}` };
  }
  return validateControl(v);
}

/** Anything with postMessage: Worker, MessagePort, parentPort. */
export interface ControlPort {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
}

/** Encodes and posts, transferring the bytes rather than cloning them. */
export function postControl(port: ControlPort, msg: ControlMessage): void {
  const bytes = encodeControl(msg);
  port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
}

/** Decodes what arrived on a port ('message' event payload). */
export function receiveControl(data: unknown): DecodeResult {
  if (!(data instanceof Uint8Array)) return { ok: false, error: 'control message is not bytes' };
  return decodeControl(data);
}
