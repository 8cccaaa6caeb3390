// The control methods the daemon answers (docs/control.md lists them with their parameters and
// results). They read the running state through DaemonControl, which daemon.ts builds over the
// supervisor (src/workers/supervisor.ts) and the transports; engine threads answer over the
// control plane (statsRequest, sessionLogout), never on the rings.

import { SenseKey } from '../../engine/spec/status';
import { latencyView, type LatencyView } from '../../engine/latency-histogram';
import type { LunMapping, Topology } from '../../engine/topology';
import type { ConfigValue, SessionStats, UnitStats } from '../../workers/messages';
import type { PoolClassStats } from '../../workers/buffer-pool';
import type { UnitAnswer, UnitOpName } from '../../workers/unit-ops';
import { topologyDocument } from './config-document';
import { ControlMethod, NO_PARAMS, controlError, defineMethod } from './methods';
import { ControlErrorCode } from './protocol';
import { ProcessMemory, memoryOfProcess } from '../../workers/memory-usage';

/** One session as sessions.list shows it. */
export interface SessionInfo {
  readonly initiatorName: string;
  /** ISID as 12 hex digits (RFC 7143 11.12.5). */
  readonly isid: string;
  readonly tsih: number;
  readonly target: string;
  /** Target portal group tag. */
  readonly tpgt: number;
  /** Local address:port of the portal the session logged in on ('' when not known). */
  readonly portal: string;
  /** Engine thread hosting its full feature phase, null on the supervisor's thread (engine.threads 0). */
  readonly thread: number | null;
  readonly connections: readonly { readonly cid: number; readonly portal: string }[];
  /** Negotiated operational keys (RFC 7143 13) by their setting names. */
  readonly negotiated: { readonly [key: string]: ConfigValue };
}

/** One engine thread's counters (stats.get, daemon.info). */
export interface ThreadStats {
  readonly index: number;
  readonly counters: { readonly [name: string]: number };
}

/** What one gathering brings back from the threads. */
export interface Gathered {
  readonly threads: ThreadStats[];
  readonly units: (UnitStats & { thread: number })[];
  /** Sessions by TSIH with their statistics; `thread` null on the supervisor's thread. */
  readonly sessions?: (SessionStats & { tsih: number; thread: number | null })[];
  readonly pool: PoolClassStats[];
}

/** What the methods need of the running daemon. */
export interface DaemonControl {
  readonly topology: Topology;
  readonly version: string;
  /** Date.now() when the daemon started. */
  readonly startedAt: number;
  readonly engineThreads: number;
  readonly controlSocket: string;
  /** Where the Prometheus endpoint listens, when on. */
  metricsListen(): string | undefined;
  threadsUp(): boolean[];
  sessions(): SessionInfo[];
  /** Forced logout of the session with this TSIH; false when there is none. */
  logout(tsih: number, waitMs: number): Promise<boolean>;
  /**
   * An operation on one unit, on the thread that homes it (workers/unit-ops.ts): the operator at a
   * changer's library (library-methods.ts), a unit's asymmetric access states (alua-methods.ts).
   */
  unit(device: string, op: UnitOpName, args: ConfigValue): Promise<UnitAnswer>;
  /** Per-thread counters, home-unit and session statistics, gathered now. */
  gather(): Promise<Gathered>;
}

/** How long session.logout waits for the initiator's Logout before the session is dropped (default). */
export const LOGOUT_WAIT_MS = 2000;

/** Sense key names of SPC-4 table 28 (reserved values by number). */
export function senseKeyName(k: number): string {
  return SenseKey[k] ?? `RESERVED_${k.toString(16).toUpperCase()}H`;
}

/** A LUN mapping: target, group ('' = the target's default map), LUN, device. */
export interface LunRow {
  readonly target: string;
  readonly group: string;
  readonly lun: number;
  readonly device: string;
  readonly readOnly: boolean;
}

export function lunRows(t: Topology): LunRow[] {
  const rows: LunRow[] = [];
  // What the initiator gets: a read-only device is read-only through every mapping.
  const readOnlyDevices = new Set(t.devices.filter(d => d.readOnly).map(d => d.name));
  const ro = (m: LunMapping): boolean => m.readOnly || readOnlyDevices.has(m.device);
  for (const tg of t.targets) {
    for (const m of tg.luns) rows.push({ target: tg.name, group: '', lun: m.lun, device: m.device, readOnly: ro(m) });
    for (const g of tg.groups) {
      for (const m of g.luns) rows.push({ target: tg.name, group: g.name, lun: m.lun, device: m.device, readOnly: ro(m) });
    }
  }
  return rows;
}

/** What a unit's and a session's statistics both show: commands by outcome, bytes, latency, depth. */
export interface CommandStatsView {
  readonly commands: number;
  readonly readCommands: number;
  readonly writeCommands: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** CHECK CONDITION answers by sense key name (only those seen). */
  readonly errorsBySenseKey: { readonly [name: string]: number };
  readonly otherErrors: number;
  /** Latency, all sizes together and per transfer-size class (SCST's measure_latency). */
  readonly latency: LatencyView;
  /** Commands received and not yet answered. */
  readonly taskSetDepth: number;
}

/** A unit's statistics as stats.get shows them (latency: in the task set). */
export interface DeviceStatsView extends CommandStatsView {
  readonly device: string;
  readonly thread: number;
  /** A long operation under way on the device (an initiator's SANITIZE), or null. */
  readonly operation: DeviceOperation | null;
}

/** A long operation on a device: what, and how far (SPC-4 4.5.2.4.4 progress indication in percent). */
export interface DeviceOperation {
  readonly name: 'sanitize';
  readonly percent: number;
}

function operationOf(u: UnitStats): DeviceOperation | null {
  return u.sanitizeProgress >= 0 ? { name: 'sanitize', percent: Math.floor((u.sanitizeProgress * 100) / 0x10000) } : null;
}

/**
 * A session's statistics as stats.get shows them (one I_T nexus: its commands over every LUN;
 * latency from the command's arrival on the connection to its answer).
 */
export interface SessionStatsView extends CommandStatsView {
  readonly tsih: number;
  readonly initiatorName: string;
  readonly isid: string;
  readonly target: string;
  readonly thread: number | null;
  /**
   * Per connection: `pdusIn.<OPCODE>`/`octetsIn.<OPCODE>`, `pdusOut.<OPCODE>`/`octetsOut.<OPCODE>`
   * (RFC 7143 opcode names), `headerDigestErrors`, `dataDigestErrors`, `r2ts`.
   */
  readonly connections: readonly { readonly cid: number; readonly counters: { readonly [name: string]: number } }[];
}

export interface StatsView {
  /** Date.now() of the gathering. */
  readonly time: number;
  readonly uptimeSeconds: number;
  readonly devices: readonly DeviceStatsView[];
  /** Every LUN mapping with its device's statistics. */
  readonly luns: readonly (LunRow & { readonly stats: DeviceStatsView | null })[];
  readonly threads: readonly ThreadStats[];
  readonly pool: readonly PoolClassStats[];
  /** Normal sessions logged in. */
  readonly sessions: number;
  /** Every session with its statistics. */
  readonly sessionStats: readonly SessionStatsView[];
  /** The process's resident and anonymous memory and the supervisor thread's heap. */
  readonly memory: ProcessMemory;
}

function bySenseKey(counts: readonly number[]): { [name: string]: number } {
  const errorsBySenseKey: { [name: string]: number } = {};
  counts.forEach((n, k) => { if (n > 0) errorsBySenseKey[senseKeyName(k)] = n; });
  return errorsBySenseKey;
}

function deviceView(u: UnitStats & { thread: number }): DeviceStatsView {
  const errorsBySenseKey = bySenseKey(u.checkConditions);
  return {
    device: u.device, thread: u.thread, commands: u.commands, readCommands: u.readCommands, writeCommands: u.writeCommands,
    readBytes: u.readBytes, writeBytes: u.writeBytes, errorsBySenseKey, otherErrors: u.otherErrors,
    latency: latencyView(u.latencyBuckets, u.latencySumNs), taskSetDepth: u.taskSetDepth, operation: operationOf(u),
  };
}

function sessionView(s: SessionStats & { tsih: number; thread: number | null }, info: SessionInfo | undefined): SessionStatsView {
  return {
    tsih: s.tsih, initiatorName: info?.initiatorName ?? '', isid: info?.isid ?? '', target: info?.target ?? '', thread: s.thread,
    commands: s.commands, readCommands: s.readCommands, writeCommands: s.writeCommands, readBytes: s.readBytes, writeBytes: s.writeBytes,
    errorsBySenseKey: bySenseKey(s.checkConditions), otherErrors: s.otherErrors,
    latency: latencyView(s.latencyBuckets, s.latencySumNs), taskSetDepth: s.taskSetDepth, connections: s.connections,
  };
}

/** stats.get's answer (also what the Prometheus endpoint exports). */
export async function gatherStats(d: DaemonControl): Promise<StatsView> {
  const g = await d.gather();
  const devices = g.units.map(deviceView);
  const byName = new Map(devices.map(v => [v.device, v]));
  const sessions = d.sessions();
  const byTsih = new Map(sessions.map(s => [s.tsih, s]));
  return {
    time: Date.now(),
    uptimeSeconds: (Date.now() - d.startedAt) / 1000,
    devices,
    luns: lunRows(d.topology).map(r => ({ ...r, stats: byName.get(r.device) ?? null })),
    threads: g.threads,
    pool: g.pool,
    sessions: sessions.length,
    sessionStats: (g.sessions ?? []).map(s => sessionView(s, byTsih.get(s.tsih))).sort((a, b) => a.tsih - b.tsih),
    memory: memoryOfProcess(),
  };
}

/** The read side of the control plane (issue 10): configuration, sessions, LUNs, statistics. */
export function daemonMethods(d: DaemonControl): ControlMethod[] {
  return [
    defineMethod<Record<string, never>>('daemon.info', 'version, pid, uptime, engine threads, control socket, metrics endpoint', NO_PARAMS, () => ({
      version: d.version,
      pid: process.pid,
      node: process.version,
      startedAt: new Date(d.startedAt).toISOString(),
      uptimeSeconds: (Date.now() - d.startedAt) / 1000,
      engineThreads: d.engineThreads,
      threads: d.threadsUp().map((up, index) => ({ index, up })),
      controlSocket: d.controlSocket,
      metrics: d.metricsListen() ?? null,
    })),
    defineMethod<{ secrets?: boolean }>('config.get', 'the running topology (CHAP secrets redacted unless "secrets": true)', {
      type: 'object', additionalProperties: false, properties: { secrets: { type: 'boolean' } },
    }, p => topologyDocument(d.topology, { secrets: p.secrets === true })),
    defineMethod<Record<string, never>>('sessions.list', 'every Normal session: initiator, ISID, TSIH, target, portal, engine thread, connections, negotiated keys', NO_PARAMS,
      () => d.sessions()),
    defineMethod<{ tsih: number; waitMs?: number }>('session.logout', 'forced logout of one session: Async Message logout request, then dropped after waitMs', {
      type: 'object', additionalProperties: false, required: ['tsih'],
      properties: { tsih: { type: 'integer', minimum: 1, maximum: 65535 }, waitMs: { type: 'integer', minimum: 0, maximum: 60000 } },
    }, async p => {
      const found = await d.logout(p.tsih, p.waitMs ?? LOGOUT_WAIT_MS);
      if (!found) throw controlError(ControlErrorCode.NOT_FOUND, `no session with TSIH ${p.tsih}`, [{ path: '/params/tsih', message: 'no such session' }]);
      return { tsih: p.tsih, loggedOut: true };
    }),
    defineMethod<Record<string, never>>('luns.list', 'every LUN mapping with its device, engine thread, task set depth and long operation under way', NO_PARAMS, async () => {
      const g = await d.gather();
      const units = new Map(g.units.map(u => [u.device, u]));
      return lunRows(d.topology).map(r => {
        const u = units.get(r.device);
        return { ...r, thread: u?.thread ?? null, taskSetDepth: u?.taskSetDepth ?? null, operation: u ? operationOf(u) : null };
      });
    }),
    defineMethod<Record<string, never>>('stats.get', 'statistics per device, LUN and engine thread, and the buffer pool', NO_PARAMS, () => gatherStats(d)),
  ];
}
