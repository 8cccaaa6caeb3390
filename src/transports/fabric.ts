// DESIGN.md §6: the one seam between the transports and the runtime. What every transport
// (target driver) offers the daemon: it turns wire traffic into engine calls (open an I_T nexus,
// execute, task management) and back; the daemon only starts and stops it. And what a transport
// needs of the runtime (src/workers), offered here only: its sessions on engine threads, the
// thread's busy-poll window, direct receives into a task's buffer and the socket hand-off. No other
// file under src/transports imports src/workers (test/unit/engine/layers.test.ts).

export interface ListeningAddress {
  host: string;
  port: number;
}

export interface Fabric {
  /** Short name for logs ("iscsi", "local", "tcmu"). */
  readonly name: string;
  /** Start serving; resolves with every address actually listened on (port 0 resolved). */
  start(): Promise<ListeningAddress[]>;
  /**
   * Stop: accept nothing new, ask initiators to leave (bounded wait), drop what is left and
   * free every nexus. Resolves when no connection remains.
   */
  stop(): Promise<void>;
  /** Live sessions (I_T nexuses) of this transport. */
  sessionCount(): number;
}

// ---- sessions on engine threads (DESIGN.md §3) -------------------------------------------------
// A transport whose sessions run on engine threads gives the runtime a session-actor factory,
// registered under its fabric name on every thread that may host its sessions: the module that
// defines the factory calls registerFabric when it loads, and the daemon's engine-thread entry
// (src/daemon/engine-thread.ts) imports that module. The runtime never imports a transport; the
// hand-off names the fabric and the engine thread looks its factory up.

import { registerSessionFactory } from '../workers/session-actor';
import type { ConnectionHandlerFactory } from '../workers/session-actor';
import type { HandOffRequest, HandOffResult } from '../workers/supervisor';

export type {
  ConnectionHandler, ConnectionHandlerFactory, HandedOffConnection, SessionState, SessionStatistics,
} from '../workers/session-actor';
export type { HandOffRequest, HandOffResult, LoginOutcome } from '../workers/supervisor';

/** What a transport registers so that its sessions can run on engine threads. */
export interface SessionFabric {
  /** Fabric name, as in Fabric.name ("iscsi", "tcmu"). */
  readonly name: string;
  /** Makes the session actor of a connection handed over after its login. */
  readonly connectionHandler: ConnectionHandlerFactory;
}

/**
 * A structured logger of the process (pino's shape), made by whoever starts the thread: the daemon
 * gives its own (src/daemon/log.ts) so that a transport's logs on engine threads carry the same
 * format and redaction as the supervisor's, without a transport importing the daemon.
 */
export interface FabricLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: object): FabricLogger;
}
export type LoggerFactory = (level: string) => FabricLogger;

let loggerFactory: LoggerFactory | undefined;

/** The daemon's engine-thread entry sets how its transports make loggers on this thread. */
export function useLoggerFactory(f: LoggerFactory): void {
  loggerFactory = f;
}

/** A logger at `level` from the factory set on this thread, or undefined when none was set. */
export function fabricLogger(level: string): FabricLogger | undefined {
  return loggerFactory?.(level);
}

/** Registers `fabric`'s session factory on the calling thread. */
export function registerFabric(fabric: SessionFabric): void {
  registerSessionFactory(fabric.name, fabric.connectionHandler);
}

/**
 * The runtime as a transport's login phase sees it (the supervisor implements it): where live
 * sessions are (RFC 7143 6.3.5 reinstatement, 11.12.6 TSIH) and the move of a logged-in
 * connection to an engine thread.
 */
export interface SessionPlacement {
  /** TSIH of the live session of (initiator, ISID, target, portal group), if one is hosted. */
  findSession(initiatorName: string, isid: string, targetName: string, tpgt: number): number | undefined;
  /** The initiator and ISID of the live session with `tsih`. */
  sessionByTsih(tsih: number): { readonly initiatorName: string; readonly isid: string; readonly targetName: string; readonly tpgt: number } | undefined;
  /** Sessions hosted on engine threads. */
  readonly sessionCount: number;
  /** Connections of the sessions of `initiatorName` hosted on engine threads. */
  connectionsOf(initiatorName: string): number;
  /** Ends the live session of (initiator, ISID, target, portal group); resolves when it did. */
  reinstate(initiatorName: string, isid: string, targetName: string, tpgt: number): Promise<void>;
  handOff(req: HandOffRequest): Promise<HandOffResult>;
}

// ---- what a transport's I/O path uses of the runtime ------------------------------------------

/**
 * The calling thread's busy-poll window (workers/busy-poll.ts): a transport touches it after each
 * batch of responses it writes, so the thread polls its sockets and rings for the window instead
 * of sleeping. `busyPollFor(0)` is undefined (busy polling off).
 */
export { busyPollFor } from '../workers/busy-poll';
export type { BusyPoll } from '../workers/busy-poll';

/**
 * Whether the calling thread shares its core (workers/cpu-contention.ts): a transport that
 * writes each response at once while the thread has a core of its own gathers them per input
 * while it does not.
 */
export { threadContention } from '../workers/cpu-contention';
export type { CpuShare } from '../workers/cpu-contention';

/**
 * Receives bytes already waiting on a socket straight into a caller's buffer (recv(2) through the
 * native addon; workers/socket-handoff.ts); undefined without the addon or a descriptor.
 */
export { directReceiver } from '../workers/socket-handoff';
export type { DirectReceiver } from '../workers/socket-handoff';

/** JSON-like values a transport's login phase hands to the session's engine thread. */
export type { ConfigValue } from '../workers/messages';
