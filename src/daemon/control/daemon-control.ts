// DaemonControl (daemon-methods.ts) over the running daemon: the supervisor's registry and
// control-plane requests for sessions and statistics on engine threads, the iSCSI server's own
// registry for sessions on the supervisor's thread (engine.threads 0).

import type { Topology } from '../../engine/topology';
import type { IscsiServer } from '../../transports/iscsi/server';
import { isidHex } from '../../transports/iscsi/session';
import type { ConfigValue, SessionStats } from '../../workers/messages';
import type { Supervisor } from '../../workers/supervisor';
import type { DaemonControl, SessionInfo } from './daemon-methods';
import { packageVersion } from '../version';

function negotiatedOf(params: ConfigValue | undefined): { [key: string]: ConfigValue } {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return {};
  const n = (params as { readonly [k: string]: ConfigValue }).negotiated;
  return typeof n === 'object' && n !== null && !Array.isArray(n) ? { ...(n as { readonly [k: string]: ConfigValue }) } : {};
}

/** What a connection on the supervisor's thread offers for a forced logout (IscsiConnection). */
interface LogoutCapable { requestLogout(seconds: number): void; destroy(reason: string): void }

/** What a connection on the supervisor's thread offers for statistics (IscsiConnection). */
interface StatisticsCapable { sessionStatistics(): Omit<SessionStats, 'sessionKey'> | undefined }

function hasStatistics(c: unknown): c is StatisticsCapable {
  return typeof c === 'object' && c !== null && typeof (c as { sessionStatistics?: unknown }).sessionStatistics === 'function';
}

function canRequestLogout(c: unknown): c is LogoutCapable {
  return typeof c === 'object' && c !== null && typeof (c as { requestLogout?: unknown }).requestLogout === 'function';
}

export interface DaemonControlParts {
  /** The running topology (it changes when a configuration change commits). */
  readonly topology: () => Topology;
  readonly runtime: Supervisor;
  readonly iscsi: IscsiServer;
  readonly engineThreads: number;
  readonly controlSocket: string;
  readonly metricsListen: () => string | undefined;
}

export function daemonControl(p: DaemonControlParts): DaemonControl {
  const { runtime, iscsi } = p;
  const startedAt = Date.now();
  const sessions = (): SessionInfo[] => {
    const out: SessionInfo[] = runtime.registry.all().map(e => ({
      initiatorName: e.initiatorName, isid: e.isid, tsih: e.tsih, target: e.targetName, tpgt: e.tpgt,
      portal: e.portal ?? '', thread: e.thread,
      connections: e.cid !== undefined ? [{ cid: e.cid, portal: e.portal ?? '' }] : [],
      negotiated: negotiatedOf(e.params),
    }));
    for (const s of iscsi.sessions.all()) {
      if (s.id.type !== 'Normal' || s.isEnded) continue;
      out.push({
        initiatorName: s.id.initiatorName, isid: isidHex(s.id.isid), tsih: s.id.tsih, target: s.id.targetName ?? '',
        tpgt: s.id.tpgt, portal: '', thread: null, connections: [], negotiated: {},
      });
    }
    return out.sort((a, b) => a.tsih - b.tsih);
  };
  return {
    get topology() { return p.topology(); },
    version: packageVersion(),
    startedAt,
    engineThreads: p.engineThreads,
    controlSocket: p.controlSocket,
    metricsListen: p.metricsListen,
    threadsUp: () => Array.from({ length: p.engineThreads }, (_, i) => runtime.isUp(i)),
    sessions,
    async logout(tsih, waitMs) {
      const e = runtime.sessionByTsih(tsih);
      if (e) return runtime.logoutSession(e.key, waitMs);
      const s = iscsi.sessions.get(tsih);
      if (!s || s.isEnded || s.id.type !== 'Normal') return false;
      const c = s.connection;
      if (canRequestLogout(c)) {
        // RFC 7143 11.9.1 AsyncEvent 1: the initiator should log out within the time given.
        c.requestLogout(Math.max(1, Math.ceil(waitMs / 1000)));
        const deadline = Date.now() + waitMs;
        while (!s.isEnded && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
      }
      if (!s.isEnded) s.connection?.destroy('forced logout');
      return true;
    },
    unit: (device, op, args) => runtime.unit(device, op, args),
    async gather() {
      const replies = await runtime.stats();
      const held = runtime.pool.heldByOwner();
      const tsihOf = new Map(runtime.registry.all().map(e => [e.key, e.tsih]));
      const sessionStats: (SessionStats & { tsih: number; thread: number | null })[] = [];
      for (const r of replies) {
        for (const s of r.sessions) {
          const tsih = tsihOf.get(s.sessionKey);
          if (tsih !== undefined) sessionStats.push({ ...s, tsih, thread: r.threadIndex });
        }
      }
      // engine.threads 0: the sessions run on this thread, in the iSCSI server's own registry.
      for (const s of iscsi.sessions.all()) {
        if (s.id.type !== 'Normal' || s.isEnded || !hasStatistics(s.connection)) continue;
        const st = s.connection.sessionStatistics();
        if (st) sessionStats.push({ ...st, sessionKey: '', tsih: s.id.tsih, thread: null });
      }
      return {
        sessions: sessionStats,
        // Pool buffers each thread holds (owner tags, buffer-pool.ts) beside its own counters.
        threads: replies.map(r => ({ index: r.threadIndex, counters: { ...r.counters, poolBuffersInUse: held[r.threadIndex] ?? 0 } })),
        units: replies.flatMap(r => r.units.map(u => ({ ...u, thread: r.threadIndex }))),
        pool: runtime.pool.stats(),
      };
    },
  };
}
