// What the server gives each iSCSI connection (RFC 7143 3 / 6): the engine, the topology's `iscsi`
// settings, the session registry and portal facts, and, with engine threads, the hand-off of a
// Normal session's full feature phase (DESIGN.md §3). Its own module, so that the connection, its
// login exchange and its full feature phase all depend on it and none on another.
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../../engine/engine-api';
import type { IscsiSettings } from './settings';
import type { OperationalParams } from './negotiate';
import type { SessionRegistry } from './session';
import type { DiscoverySource } from './discovery';
import type { DirectReceiver } from '../fabric';

export interface ConnectionLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a connection resumes from on an engine thread: the outcome of its login (RFC 7143 values). */
export interface ResumeState {
  targetName: string;
  initiatorName: string;
  /** ISID as 12 hex digits. */
  isid: string;
  tsih: number;
  cid: number;
  tpgt: number;
  /** The portal the session logged in on (topology text), naming its target port; absent: none. */
  portal?: string;
  /** The next StatSN (the final Login Response used the one before). */
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  params: OperationalParams;
}

export type HandOffOutcome = { ok: true; thread: number } | { ok: false; error: string };

/**
 * The supervisor's side of sessions that run on engine threads (DESIGN.md §3): the login phase
 * stays here, a Normal session's full feature phase moves to a thread with its socket. The login
 * policy asks it about sessions hosted there (RFC 7143 6.3.5 reinstatement, TSIH uniqueness).
 */
export interface FullFeatureHandOff {
  /** TSIH of the hosted session of this initiator port on this target portal group. */
  findSession(initiatorName: string, isid: string, targetName: string, tpgt: number): number | undefined;
  /** Whether a hosted session has `tsih`, belongs to this initiator port and is on `targetName` in portal group `tpgt`. */
  sessionExists(tsih: number, initiatorName: string, isid: string, targetName: string, tpgt: number): boolean;
  tsihInUse(tsih: number): boolean;
  /** Sessions hosted on engine threads (maxSessions). */
  sessionCount(): number;
  /**
   * Reading has stopped at the end of the last Login Request: close the session this one
   * reinstates (when `reinstate`), write `finalResponse`, move the socket to an engine thread.
   */
  handOff(req: {
    socket: Duplex; state: ResumeState; leftover: Uint8Array; finalResponse: Uint8Array; reinstate: boolean;
  }): Promise<HandOffOutcome>;
}

/** What the server gives each connection. */
export interface ConnectionContext {
  engine: EngineApi;
  settings: IscsiSettings;
  sessions: SessionRegistry;
  /** Targets served on the portal this connection came in on (discovery auth, target lookup). */
  portalTargets: readonly string[];
  discovery: DiscoverySource;
  /**
   * RFC 7143 4.4.1: the Target Portal Group Tag of `targetName` on the portal this connection
   * came in on (topology.ts portalGroupTagOf): targets sharing a portal may have it in different
   * port groups.
   */
  portalGroupTag(targetName: string): number;
  /** The portal this connection came in on, as the topology spells it (the nexus's target port). */
  portal?: string;
  log: ConnectionLog;
  /** Supervisor with engine threads: Normal sessions leave for a thread at the full feature phase. */
  handOff?: FullFeatureHandOff;
  /**
   * Receives bytes already waiting on this connection's socket straight into a buffer
   * (fabric.ts directReceiver): the rest of a large data segment then goes from the
   * kernel into the task's buffer with no copy through the receive buffer.
   */
  receiver?: DirectReceiver;
  /**
   * Connections the initiator `initiatorName` holds now: its sessions' here and on engine threads,
   * and its other connections still logging in (maxConnectionsPerInitiator). Absent: not counted.
   */
  initiatorConnections?: (initiatorName: string) => number;
  /** Admission refused this connection's login (a limit): it is answered with out of resources. */
  refuseLogin?: string;
}
