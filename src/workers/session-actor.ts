// Session actors (DESIGN.md §3: one per I_T nexus, owning its connections and command numbering)
// on an engine thread. SessionHost takes the connections the supervisor hands off and runs each
// in a session actor made by the factory its transport registered, so the transport's
// full-feature phase (the iSCSI connection after login) plugs in without this runtime knowing
// the protocol or importing any transport.
//
// Registration (src/transports/fabric.ts registerFabric): a transport registers its
// ConnectionHandlerFactory under its fabric name in the thread's registry when its module loads.
// Functions cannot cross threads, so the module that starts an engine thread (the daemon's
// engine-thread entry, supervisor.ts `threadEntry`) imports the transports it serves; the
// hand-off names the fabric and the host looks its factory up here.
//
// A session actor gets the adopted socket, the state the login negotiated, the bytes already
// read past the login and the thread's EngineApi (a ThreadEngine: local units are direct calls).
// It reports the end of its session through `ended`; the host tells the supervisor, which keeps
// the session registry.
//
// DESIGN.md §10: each adopted socket reads into one receive buffer of its own, reused for every
// read (no buffer allocated per read). A 'data' chunk is a view of it, valid only while the
// 'data' listeners run: a handler copies whatever it keeps (the iSCSI framer does).

import * as net from 'node:net';
import type { EngineApi } from '../engine/engine-api';
import type { ConnectionHandOff, ControlMessage, SessionHandOffState, SessionStats } from './messages';
import { closeFd } from '../native';
import { NexusError } from '../engine/result';

/** What the login phase settled, as handed to the engine thread. */
export type SessionState = SessionHandOffState;

export interface HandedOffConnection {
  /** Its 'data' chunks are views of a reused receive buffer: valid during the event only. */
  readonly socket: net.Socket;
  readonly state: SessionState;
  /** Bytes read by the supervisor past the login: process them before anything the socket reads. */
  readonly pending: Uint8Array;
  readonly engine: EngineApi;
  readonly threadIndex: number;
  /** The session is over (logout, connection lost): call once; the supervisor forgets it. */
  ended(reason: string): void;
}

export interface ConnectionHandler {
  /** End the session now (reinstatement, logout asked by the supervisor, shutdown). */
  close(reason: string): Promise<void>;
  /** Ask the initiator to log out within `seconds` (shutdown); the session ends when it does. */
  requestLogout?(seconds: number): void;
  /** The session's statistics now (stats.get); read on demand, never sent per command. */
  statistics?(): SessionStatistics;
}

/** What a session actor reports of its session: SessionStats without the key the host adds. */
export type SessionStatistics = Omit<SessionStats, 'sessionKey'>;

export type ConnectionHandlerFactory = (conn: HandedOffConnection) => ConnectionHandler;

/** Largest read: what one read of a busy connection brings (libuv reads up to 64 KiB too). */
const RECEIVE_BUFFER_BYTES = 64 * 1024;

/**
 * A net.Socket over a duplicated descriptor whose reads land in one buffer of its own (Node's
 * `onread`); each read is emitted as 'data', a view of that buffer, so listeners see a plain
 * socket. pause()/resume() keep working (back-pressure).
 */
function adoptWithReceiveBuffer(fd: number): net.Socket {
  const buffer = Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES);
  const socket: net.Socket = new net.Socket({
    fd, readable: true, writable: true,
    onread: { buffer, callback: (n: number) => { socket.emit('data', buffer.subarray(0, n)); } },
  } as net.SocketConstructorOpts);
  return socket;
}

/** Session-actor factories of this thread, by fabric name. */
const factories = new Map<string, ConnectionHandlerFactory>();

/**
 * Registers the session-actor factory of fabric `name` on this thread (a transport does this
 * when its module loads; see src/transports/fabric.ts). A second, different factory for the same
 * name is a bug.
 */
export function registerSessionFactory(name: string, factory: ConnectionHandlerFactory): void {
  const had = factories.get(name);
  if (had !== undefined && had !== factory) throw new NexusError('ERR_FABRIC', `fabric "${name}" is registered twice`);
  factories.set(name, factory);
}

/** The factory registered for `name` on this thread. */
export function sessionFactory(name: string): ConnectionHandlerFactory | undefined {
  return factories.get(name);
}

export function stateOf(m: ConnectionHandOff): SessionState {
  return {
    sessionKey: m.sessionKey, targetName: m.targetName, initiatorName: m.initiatorName, isid: m.isid, tsih: m.tsih,
    cid: m.cid, tpgt: m.tpgt, portal: m.portal, statSN: m.statSN, expCmdSN: m.expCmdSN, maxCmdSN: m.maxCmdSN, params: m.params,
  };
}

interface Hosted {
  readonly handler: ConnectionHandler;
  readonly socket: net.Socket;
  ended: boolean;
}

export class SessionHost {
  private readonly sessions = new Map<string, Hosted>();
  readonly counters = { accepted: 0, refused: 0, ended: 0, closedOnRequest: 0 };

  constructor(
    readonly threadIndex: number,
    private readonly engine: EngineApi,
    private readonly post: (m: ControlMessage) => void,
  ) {}

  get size(): number { return this.sessions.size; }

  /** The statistics of every hosted session whose actor keeps them. */
  statistics(): SessionStats[] {
    const out: SessionStats[] = [];
    for (const [sessionKey, h] of this.sessions) {
      if (h.ended || !h.handler.statistics) continue;
      out.push({ sessionKey, ...h.handler.statistics() });
    }
    return out;
  }

  /** The control messages this actor takes; false when `m` is not one of them. */
  receive(m: ControlMessage): boolean {
    switch (m.type) {
      case 'connectionHandOff': this.accept(m); return true;
      case 'sessionClose': void this.closeSession(m.sessionKey, m.reason); return true;
      case 'sessionLogoutRequest':
        for (const h of this.sessions.values()) if (!h.ended) h.handler.requestLogout?.(m.seconds);
        return true;
      case 'sessionLogout': {
        const h = this.sessions.get(m.sessionKey);
        if (h && !h.ended) {
          if (h.handler.requestLogout) h.handler.requestLogout(m.seconds);
          else void this.closeSession(m.sessionKey, 'forced logout');
        }
        return true;
      }
      default: return false;
    }
  }

  private accept(m: ConnectionHandOff): void {
    const answer = (error: string): void =>
      this.post({ type: 'handOffAccepted', handOffId: m.handOffId, threadIndex: this.threadIndex, error });
    if (this.sessions.has(m.sessionKey)) {
      // The supervisor closes an old session before placing its reinstatement: a duplicate is a bug there.
      closeFd(m.fd);
      this.counters.refused++;
      answer(`session ${m.sessionKey} is already hosted here`);
      return;
    }
    const factory = sessionFactory(m.fabric);
    if (factory === undefined) {
      closeFd(m.fd);
      this.counters.refused++;
      answer(`no session factory for fabric "${m.fabric}" on this thread`);
      return;
    }
    let socket: net.Socket;
    try {
      socket = adoptWithReceiveBuffer(m.fd);
    } catch (e) {
      closeFd(m.fd);
      this.counters.refused++;
      answer(`cannot open descriptor ${m.fd}: ${(e as Error).message}`);
      return;
    }
    const key = m.sessionKey;
    let hosted: Hosted | undefined;
    const ended = (reason: string): void => {
      const h = this.sessions.get(key);
      if (h === undefined || h !== hosted || h.ended) return;
      h.ended = true;
      this.sessions.delete(key);
      this.counters.ended++;
      this.post({ type: 'sessionEnded', sessionKey: key, threadIndex: this.threadIndex, reason });
    };
    try {
      const handler = factory({
        socket, state: stateOf(m), pending: m.pending, engine: this.engine, threadIndex: this.threadIndex, ended,
      });
      hosted = { handler, socket, ended: false };
      this.sessions.set(key, hosted);
    } catch (e) {
      socket.destroy();
      this.counters.refused++;
      answer(`connection handler failed: ${(e as Error).message}`);
      return;
    }
    // A socket that closes without the handler saying so still ends the session.
    socket.once('close', () => ended('connection closed'));
    this.counters.accepted++;
    answer('');
  }

  /** Ends a hosted session and waits for its handler (idempotent). */
  async closeSession(key: string, reason: string): Promise<void> {
    const h = this.sessions.get(key);
    if (!h) {
      this.post({ type: 'sessionEnded', sessionKey: key, threadIndex: this.threadIndex, reason: 'not hosted' });
      return;
    }
    this.counters.closedOnRequest++;
    try {
      await h.handler.close(reason);
    } finally {
      if (!h.socket.destroyed) h.socket.destroy();
      if (!h.ended) {
        h.ended = true;
        this.sessions.delete(key);
        this.counters.ended++;
        this.post({ type: 'sessionEnded', sessionKey: key, threadIndex: this.threadIndex, reason });
      }
    }
  }

  /** Thread shutdown: every session ends. */
  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.sessions.keys()].map(k => this.closeSession(k, reason)));
  }
}
