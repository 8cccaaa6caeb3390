// The full feature phase of an iSCSI session on an engine thread (DESIGN.md §3): the supervisor
// ran the login (RFC 7143 6), wrote the final Login Response and handed the socket over
// (src/workers/supervisor.ts). Loading this module registers connectionHandler as the session
// factory of the "iscsi" fabric (src/transports/fabric.ts) on the loading thread; the daemon's
// engine-thread entry imports it, and SessionHost (src/workers/session-actor.ts) calls it for
// each such connection. The connection resumes with the
// negotiated parameters, StatSN and CmdSN window of the login, opens its I_T nexus on the
// thread's ThreadEngine (units homed here are direct calls, others go through the rings) and
// first reads the bytes the supervisor had read past the last Login Request.
//
// What the login settled travels in the hand-off's `params` (control plane, msgpackr): the
// negotiated operational parameters, the target's iSCSI settings (CmdSN window, NOP-In timers)
// and the SendTargets view of the portals (RFC 7143 12.3: SendTargets is allowed in a Normal
// session too). decodeHandOffParams checks that shape before anything uses it.
import { ISCSI_SETTINGS, IscsiSettings } from './settings';
import type { EngineApi } from '../../engine/engine-api';
import { NexusError } from '../../engine/result';
import { ConfigValue, ConnectionHandlerFactory, SessionStatistics, directReceiver, fabricLogger, registerFabric } from '../fabric';
import pino from 'pino';
import { IscsiConnection } from './connection';
import type { ConnectionLog } from './connection-context';
import type { DiscoverySource, DiscoveryTarget } from './discovery';
import { OPERATIONAL_PARAM_FIELDS, OperationalParams } from './negotiate';
import { SessionRegistry } from './session';

export interface HandOffParams {
  negotiated: OperationalParams;
  settings: IscsiSettings;
  discovery: DiscoveryTarget[];
  /** pino level name for the thread's connection log. */
  logLevel: string;
}

/** One field of the hand-off's `negotiated` or `settings` record, as its table states it. */
interface Field {
  readonly name: string;
  readonly kind: 'number' | 'boolean' | 'string' | 'list';
  readonly optional?: true;
  /** A list's allowed values. */
  readonly values?: readonly string[];
}

/** The fields of OperationalParams, from the key table (negotiate.ts). */
const NEGOTIATED: readonly Field[] = OPERATIONAL_PARAM_FIELDS;
/** The settings of the `iscsi` section, from the key table and the transport's own (settings.ts). */
const SETTINGS: readonly Field[] = ISCSI_SETTINGS.map((s): Field => ({
  name: s.name, kind: s.kind === 'integer' ? 'number' : s.kind, optional: s.optional, values: s.values,
}));

type Rec = { readonly [k: string]: ConfigValue };
const isRec = (v: ConfigValue | undefined): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields of `from` as plain data: lists copied, absent optional fields left out (no undefined). */
function encodeFields(from: object, fields: readonly Field[]): { [k: string]: ConfigValue } {
  const r = from as { readonly [k: string]: unknown };
  const out: { [k: string]: ConfigValue } = {};
  for (const f of fields) {
    const v = r[f.name];
    if (v !== undefined) out[f.name] = Array.isArray(v) ? [...(v as string[])] : (v as ConfigValue);
  }
  return out;
}

function fieldValid(f: Field, v: ConfigValue | undefined): boolean {
  if (v === undefined) return f.optional === true;
  if (f.kind === 'list') return Array.isArray(v) && v.every((x) => typeof x === 'string' && (f.values ?? []).includes(x));
  return typeof v === f.kind;
}

/** The fields of `r`, each checked against its table; undefined when one is wrong or missing. */
function decodeFields(r: Rec, fields: readonly Field[]): { [k: string]: ConfigValue } | undefined {
  const out: { [k: string]: ConfigValue } = {};
  for (const f of fields) {
    const v = r[f.name];
    if (!fieldValid(f, v)) return undefined;
    if (v !== undefined) out[f.name] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

/** The hand-off `params` for a session (plain data: no undefined, no class instances). */
export function encodeHandOffParams(p: HandOffParams): ConfigValue {
  const discovery: ConfigValue[] = p.discovery.map((t) => ({
    name: t.name, portals: t.portals.map((a) => ({ host: a.host, port: a.port, tpgt: a.tpgt })),
  }));
  return {
    negotiated: encodeFields(p.negotiated, NEGOTIATED), settings: encodeFields(p.settings, SETTINGS), discovery, logLevel: p.logLevel,
  };
}

/** The hand-off `params` checked field by field; undefined when the shape is wrong. */
export function decodeHandOffParams(v: ConfigValue): HandOffParams | undefined {
  if (!isRec(v) || !isRec(v.negotiated) || !isRec(v.settings) || !Array.isArray(v.discovery) || typeof v.logLevel !== 'string') return undefined;
  const negotiated = decodeFields(v.negotiated, NEGOTIATED);
  const settings = decodeFields(v.settings, SETTINGS);
  if (!negotiated || !settings) return undefined;
  const discovery: DiscoveryTarget[] = [];
  for (const t of v.discovery as readonly ConfigValue[]) {
    if (!isRec(t) || typeof t.name !== 'string' || !Array.isArray(t.portals)) return undefined;
    const portals: Array<{ host: string; port: number; tpgt: number }> = [];
    for (const a of t.portals as readonly ConfigValue[]) {
      if (!isRec(a) || typeof a.host !== 'string' || typeof a.port !== 'number' || typeof a.tpgt !== 'number') return undefined;
      portals.push({ host: a.host, port: a.port, tpgt: a.tpgt });
    }
    discovery.push({ name: t.name, portals });
  }
  // Every field was checked above against the tables OperationalParams and IscsiSettings come from.
  return {
    negotiated: negotiated as unknown as OperationalParams,
    settings: settings as unknown as IscsiSettings,
    discovery,
    logLevel: v.logLevel,
  };
}

/** Sessions of this engine thread (the supervisor's registry knows every thread's). */
const sessions = new SessionRegistry();
const logs = new Map<string, ConnectionLog>();

function logFor(level: string, thread: number): ConnectionLog {
  let l = logs.get(level);
  if (!l) {
    // The daemon's logger when its engine-thread entry set one (fabric.ts useLoggerFactory), else
    // plain pino on stderr at that level (threads started by tests and embedders).
    l = (fabricLogger(level) ?? pino({ level }, pino.destination(2))).child({ subsystem: 'iscsi', thread });
    logs.set(level, l);
  }
  return l;
}

function discoveryOf(targets: readonly DiscoveryTarget[], engine: EngineApi): DiscoverySource {
  return { targets: () => targets, canSee: (target, initiator) => engine.canSee(target, initiator) };
}

/** A session not (or no longer) in its full feature phase has counted nothing. */
const EMPTY_STATISTICS: SessionStatistics = {
  commands: 0, readCommands: 0, writeCommands: 0, readBytes: 0, writeBytes: 0, checkConditions: [], otherErrors: 0,
  latencyBuckets: [], latencySumNs: [], taskSetDepth: 0, connections: [],
};

/** Fabric name the iSCSI session factory is registered under. */
export const ISCSI_FABRIC = 'iscsi';

export const connectionHandler: ConnectionHandlerFactory = (conn) => {
  const p = decodeHandOffParams(conn.state.params);
  if (!p) throw new NexusError('ERR_HANDOFF_STATE', 'hand-off parameters are malformed');
  const st = conn.state;
  conn.socket.setNoDelay(true);
  const c = new IscsiConnection(
    conn.socket,
    {
      engine: conn.engine, settings: p.settings, sessions, portalTargets: [], discovery: discoveryOf(p.discovery, conn.engine),
      portalGroupTag: () => st.tpgt, ...(st.portal ? { portal: st.portal } : {}), log: logFor(p.logLevel, conn.threadIndex), receiver: directReceiver(conn.socket),
    },
    {
      targetName: st.targetName, initiatorName: st.initiatorName, isid: st.isid, tsih: st.tsih, cid: st.cid, tpgt: st.tpgt, ...(st.portal ? { portal: st.portal } : {}),
      statSN: st.statSN, expCmdSN: st.expCmdSN, maxCmdSN: st.maxCmdSN, params: p.negotiated,
    },
  );
  void c.closed.then(() => conn.ended(c.endReason ?? 'connection closed'));
  c.feed(conn.pending);
  return {
    close: async (reason) => {
      c.destroy(reason);
      await c.closed;
    },
    requestLogout: (seconds) => c.requestLogout(seconds),
    statistics: () => c.sessionStatistics() ?? EMPTY_STATISTICS,
  };
};

registerFabric({ name: ISCSI_FABRIC, connectionHandler });
