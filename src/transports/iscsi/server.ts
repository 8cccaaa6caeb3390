// RFC 7143 3.1 / 3.4.1: the iSCSI target's network side. One net.Server per portal address
// (targets sharing a portal share its listener); each accepted TCP connection becomes an
// IscsiConnection that logs in and joins or starts a session. Sessions live in one registry so
// reinstatement finds them across portals.
import net from 'node:net';
import type { EngineApi } from '../../engine/engine-api';
import { localPortalsOf, portalGroupTagOf, portGroupsOf, type TargetConfig } from '../../engine/topology';
import { NexusError } from '../../engine/result';
import type { IscsiSettings } from './settings';
import { Fabric, ListeningAddress, SessionPlacement, directReceiver } from '../fabric';
import { IscsiConnection } from './connection';
import type { ConnectionLog, FullFeatureHandOff } from './connection-context';
import { ISCSI_FABRIC, encodeHandOffParams } from './ffp-handler';
import { SessionRegistry } from './session';
import { DiscoverySource, DiscoveryTarget } from './discovery';
import { transportDefault } from './settings';
import { LoginRate } from './login-rate';

export interface PortalAddress {
  host: string;
  port: number;
}

export interface IscsiServerOptions {
  engine: EngineApi;
  settings: IscsiSettings;
  targets: readonly TargetConfig[];
  /** Parse "host:port" / "[v6]:port". */
  parsePortal(text: string): PortalAddress | undefined;
  log: ConnectionLog;
  /** How long stop() waits for initiators to log out after the Async logout request. */
  logoutWaitMs?: number;
  /**
   * Engine threads (DESIGN.md §3): Normal sessions run their full feature phase there, in the
   * session actor ffp-handler.ts registers as the "iscsi" fabric; logins and discovery sessions stay here. `engine` is then the threads'
   * directory (canSee, groupFor, targetConfig), never asked to run a command.
   */
  sessionThreads?: SessionPlacement;
  /** pino level of the connection log on engine threads (default 'info'). */
  threadLogLevel?: string;
}

interface Listener {
  key: string;
  /** The portal as the topology spells it: the target port of the connections it accepts. */
  text: string;
  wanted: PortalAddress;
  actual?: PortalAddress;
  server: net.Server;
  targets: string[];
}

export class IscsiServer implements Fabric {
  readonly name = 'iscsi';
  readonly sessions = new SessionRegistry();
  private readonly listeners: Listener[] = [];
  private readonly connections = new Set<IscsiConnection>();
  /** Connections accepted here and not yet closed, per source address (maxConnectionsPerAddress). */
  private readonly perAddress = new Map<string, number>();
  private readonly loginRate: LoginRate;
  private stopping = false;
  /** The targets served (discovery lists them); replaced by live reconfiguration. */
  private targets: readonly TargetConfig[];

  private readonly handOff: FullFeatureHandOff | undefined;

  constructor(private readonly o: IscsiServerOptions) {
    this.targets = o.targets;
    this.loginRate = new LoginRate(o.settings.maxLoginsPerSecond ?? transportDefault('maxLoginsPerSecond'));
    this.handOff = o.sessionThreads ? this.handOffTo(o.sessionThreads) : undefined;
  }

  /** The login phase's view of sessions on engine threads, and the move of a socket there. */
  private handOffTo(threads: SessionPlacement): FullFeatureHandOff {
    const discovery = this.discoverySource();
    return {
      findSession: (initiator, isid, target, tpgt) => threads.findSession(initiator, isid, target, tpgt),
      sessionExists: (tsih, initiator, isid, target, tpgt) => {
        const e = threads.sessionByTsih(tsih);
        return e !== undefined && e.initiatorName === initiator && e.isid === isid.toLowerCase() && e.targetName === target && e.tpgt === tpgt;
      },
      tsihInUse: (tsih) => threads.sessionByTsih(tsih) !== undefined,
      sessionCount: () => threads.sessionCount,
      handOff: async ({ socket, state, leftover, finalResponse, reinstate }) => {
        // RFC 7143 6.3.5: the old session ends (on its thread) before the new one starts.
        if (reinstate) await threads.reinstate(state.initiatorName, state.isid, state.targetName, state.tpgt);
        const params = encodeHandOffParams({
          negotiated: state.params, settings: this.o.settings, discovery: [...discovery.targets()], logLevel: this.o.threadLogLevel ?? 'info',
        });
        const r = await threads.handOff({
          fabric: ISCSI_FABRIC,
          socket: socket as net.Socket,
          state: {
            targetName: state.targetName, initiatorName: state.initiatorName, isid: state.isid, tsih: state.tsih, cid: state.cid,
            tpgt: state.tpgt, portal: state.portal ?? '', statSN: state.statSN, expCmdSN: state.expCmdSN, maxCmdSN: state.maxCmdSN, params,
          },
          leftover, finalResponse,
        });
        return r.ok ? { ok: true, thread: r.thread } : { ok: false, error: r.error };
      },
    };
  }

  /**
   * Connections of `initiatorName`: those of this listener (logging in, discovery, and sessions
   * when there are no engine threads) and its sessions' on engine threads.
   */
  private connectionsOf(initiatorName: string): number {
    let n = 0;
    for (const c of this.connections) if (c.initiatorName === initiatorName) n++;
    return n + (this.o.sessionThreads?.connectionsOf(initiatorName) ?? 0);
  }

  sessionCount(): number {
    return this.sessions.size + (this.o.sessionThreads?.sessionCount ?? 0);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<ListeningAddress[]> {
    const byKey = new Map<string, Listener>();
    for (const t of this.targets) {
      if (t.driver !== 'iscsi') continue;
      // A port group another gateway serves is listed (discovery) but listened on there only.
      for (const text of localPortalsOf(t)) {
        const p = this.o.parsePortal(text);
        if (!p) continue;
        const key = `${p.host}|${p.port}`;
        let l = byKey.get(key);
        if (!l) {
          l = { key, text, wanted: p, server: net.createServer(), targets: [] };
          byKey.set(key, l);
          this.listeners.push(l);
        }
        if (!l.targets.includes(t.name)) l.targets.push(t.name);
      }
    }
    try {
      for (const l of this.listeners) await this.listen(l);
    } catch (e) {
      await this.closeListeners();
      throw e;
    }
    return this.listeners.map((l) => ({ host: l.wanted.host, port: (l.actual as PortalAddress).port }));
  }

  private listen(l: Listener): Promise<void> {
    const discovery = this.discoverySource();
    l.server.on('connection', (socket: net.Socket) => {
      if (this.stopping) {
        socket.destroy();
        return;
      }
      const from = socket.remoteAddress ?? '';
      const held = this.perAddress.get(from) ?? 0;
      const maxHeld = this.o.settings.maxConnectionsPerAddress ?? transportDefault('maxConnectionsPerAddress');
      if (held >= maxHeld) {
        this.o.log.warn({ remote: from, held }, 'too many connections from one address; closing at accept');
        socket.destroy();
        return;
      }
      this.perAddress.set(from, held + 1);
      // Counted until this socket closes: with engine threads that is when a logged-in session's
      // socket moves to its thread, so the limit bounds what is logging in or served here.
      socket.once('close', () => {
        const n = (this.perAddress.get(from) ?? 1) - 1;
        if (n > 0) this.perAddress.set(from, n);
        else this.perAddress.delete(from);
      });
      try {
        socket.setNoDelay(true);
        const conn = new IscsiConnection(socket, {
          engine: this.o.engine, settings: this.o.settings, sessions: this.sessions, portalTargets: l.targets,
          discovery, portalGroupTag: (target) => this.portalGroupTag(target, l.text), portal: l.text, log: this.o.log, handOff: this.handOff,
          // Sessions that stay on this thread (no engine threads) receive large segments in place.
          receiver: this.handOff === undefined ? directReceiver(socket) : undefined,
          initiatorConnections: (name) => this.connectionsOf(name),
          refuseLogin: this.loginRate.admit(from) ? undefined : 'more logins per second from this address than maxLoginsPerSecond',
        });
        this.connections.add(conn);
        // RFC 7143 6.3: a login that has not reached its final response within loginTimeoutSec
        // is dropped (a silent or slow peer holds no socket and no login state for long).
        const loginTimer = setTimeout(() => {
          if (!conn.isLoggingIn) return;
          this.o.log.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'login not finished within loginTimeoutSec; closing');
          conn.destroy('login timeout');
        }, (this.o.settings.loginTimeoutSec ?? transportDefault('loginTimeoutSec')) * 1000);
        loginTimer.unref();
        void conn.closed.then(() => {
          clearTimeout(loginTimer);
          this.connections.delete(conn);
        });
      } catch (err) {
        this.o.log.error({ err }, 'cannot set up an accepted connection');
        socket.destroy();
      }
    });
    l.server.on('error', (err) => this.o.log.error({ err, portal: l.key }, 'listener error'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(Object.assign(err, { message: `cannot listen on ${l.wanted.host}:${l.wanted.port}: ${err.message}` }));
      l.server.once('error', onError);
      l.server.listen({ host: l.wanted.host, port: l.wanted.port, exclusive: true }, () => {
        l.server.removeListener('error', onError);
        const a = l.server.address() as net.AddressInfo;
        l.actual = { host: l.wanted.host, port: a.port };
        resolve();
      });
    });
  }

  /** Live reconfiguration: the targets served from now on (discovery, new logins). */
  setTargets(targets: readonly TargetConfig[]): void {
    this.targets = targets;
  }

  /**
   * Live reconfiguration: `target` is served on portal `text` too, on the listener already open
   * there or a new one (rejects, with nothing changed, when the address cannot be listened on).
   */
  async addPortal(target: string, text: string): Promise<ListeningAddress> {
    const p = this.o.parsePortal(text);
    if (!p) throw new NexusError('ERR_PORTAL', `invalid portal "${text}"`);
    const key = `${p.host}|${p.port}`;
    let l = this.listeners.find((x) => x.key === key);
    if (!l) {
      const fresh: Listener = { key, text, wanted: p, server: net.createServer(), targets: [] };
      await this.listen(fresh);
      this.listeners.push(fresh);
      l = fresh;
    }
    if (!l.targets.includes(target)) l.targets.push(target);
    return { host: l.wanted.host, port: (l.actual as PortalAddress).port };
  }

  /**
   * Live reconfiguration: `target` is no longer served on portal `text`; a listener no target
   * uses any more stops listening. Resolves with the address it had, for the sessions logged in
   * there to be asked to log out.
   */
  removePortal(target: string, text: string): PortalAddress | undefined {
    const p = this.o.parsePortal(text);
    const l = p ? this.listeners.find((x) => x.key === `${p.host}|${p.port}`) : undefined;
    if (!l) return undefined;
    l.targets = l.targets.filter((t) => t !== target);
    if (l.targets.length === 0) {
      this.listeners.splice(this.listeners.indexOf(l), 1);
      // close() stops accepting at once; its callback waits for the connections still open, which
      // end when their sessions log out.
      if (l.server.listening) l.server.close();
    }
    return l.actual;
  }

  /**
   * RFC 7143 4.4.1: the Target Portal Group Tag of `target` on the portal spelled `portal`: the id
   * of the target port group holding it (topology.ts), from the running topology.
   */
  private portalGroupTag(target: string, portal: string): number {
    const t = this.o.engine.targetConfig(target) ?? this.targets.find((x) => x.name === target);
    return t ? portalGroupTagOf(t, portal) : 1;
  }

  /**
   * SendTargets sees each target with the addresses its portals actually listen on, each with
   * the tag of its target portal group (RFC 7143 12.3: TargetAddress=<address>:<port>,<tag>),
   * then the portals of its groups on other gateways: an initiator that discovers through one
   * gateway finds every path of the target.
   */
  private discoverySource(): DiscoverySource {
    return {
      targets: (): DiscoveryTarget[] =>
        this.targets
          .filter((t) => t.driver === 'iscsi' && t.enabled !== false)
          .map((t) => ({
            name: t.name,
            portals: [
              ...this.listeners.filter((l) => l.targets.includes(t.name) && l.actual)
                .map((l) => ({ ...(l.actual as PortalAddress), tpgt: this.portalGroupTag(t.name, l.text) })),
              ...portGroupsOf(t).filter((g) => g.remote === true).flatMap((g) => g.portals.flatMap((text) => {
                const p = this.o.parsePortal(text);
                return p ? [{ ...p, tpgt: g.id }] : [];
              })),
            ],
          })),
      canSee: (target, initiator) => this.o.engine.canSee(target, initiator),
    };
  }

  /**
   * Stop accepting, send every full-feature connection an Async "logout requested", wait up to
   * logoutWaitMs for initiators to log out, then drop whatever is left (its nexus closes as lost).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const closing = this.closeListeners();
    const waitMs = this.o.logoutWaitMs ?? 2000;
    for (const c of this.connections) {
      if (c.isFullFeature && c.sessionType === 'Normal') c.requestLogout(Math.ceil(waitMs / 1000));
    }
    const all = (): Promise<unknown> => Promise.all([...this.connections].map((c) => c.closed));
    const anyNormal = [...this.connections].some((c) => c.isFullFeature && c.sessionType === 'Normal');
    if (anyNormal) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      if (timer) clearTimeout(timer);
    }
    for (const c of [...this.connections]) c.destroy('target shutting down');
    await all();
    for (const s of this.sessions.all()) await s.end('loss');
    await closing;
  }

  private async closeListeners(): Promise<void> {
    await Promise.all(
      this.listeners.map((l) => new Promise<void>((r) => (l.server.listening ? l.server.close(() => r()) : r()))),
    );
  }
}
