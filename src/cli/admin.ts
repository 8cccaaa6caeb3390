/**
 * The admin commands: they talk to a running daemon over its control socket (docs/control.md).
 *
 *   nexus ls [--json]                       devices, targets, LUNs, groups and sessions as a tree
 *   nexus session ls [--json]               sessions with initiator, ISID, TSIH, portal, thread
 *   nexus session logout <tsih> [--wait MS] forced logout of one session
 *   nexus stats [--json] [--watch [SEC]] [--count N]   statistics per LUN and engine thread
 *   nexus config get [--secrets]            the running topology as JSON
 *   nexus library ls|import|export ...      a changer's library and its mail slots (library.ts)
 *   nexus device|target|lun|group ..., nexus config apply|save: changes (admin-change.ts)
 *
 * Every one takes --control PATH (default: $NEXUS_CONTROL, else ./nexus-state/control.sock, the
 * default state directory's socket). Exit status: 0 done; 1 the daemon answered with an error
 * (the message and its JSON path on stderr); 2 the command line is wrong; 3 no daemon answers
 * on the control socket; 4 a change was not confirmed (admin-change.ts).
 */

import { Command, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, withDaemon, type AdminDeps, type ControlOption } from './admin-client';
import type { DeviceOperation, DeviceStatsView, LunRow, SessionInfo, SessionStatsView, StatsView } from '../daemon/control/daemon-methods';
import { formatSize } from '../daemon/config/size';
import { registerChangeCommands } from './admin-change';

export { EXIT_OK, EXIT_DAEMON_ERROR, EXIT_USAGE, EXIT_NO_DAEMON, withDaemon } from './admin-client';
export type { AdminIo, AdminDeps, ControlOption } from './admin-client';

export const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

interface ConfigDoc {
  devices: { name: string; handler: string; size: number | string; path?: string; readOnly?: boolean }[];
  targets: {
    name: string; driver: string; portals: string[]; luns: { lun: number; device: string; readOnly: boolean }[];
    groups: { name: string; initiators: string[]; luns: { lun: number; device: string; readOnly: boolean }[] }[];
  }[];
}

type LunListRow = LunRow & { thread: number | null; taskSetDepth: number | null; operation?: DeviceOperation | null };

/** The tree `nexus ls` prints. */
export function formatTree(cfg: ConfigDoc, luns: readonly LunListRow[], sessions: readonly SessionInfo[]): string {
  const out: string[] = [];
  const threadOf = new Map(luns.map(l => [l.device, l.thread]));
  const operationOf = new Map(luns.map(l => [l.device, l.operation ?? null]));
  out.push(`devices (${cfg.devices.length})`);
  for (const d of cfg.devices) {
    const size = typeof d.size === 'number' ? formatSize(BigInt(d.size)) : d.size;
    const t = threadOf.get(d.name);
    const op = operationOf.get(d.name);
    out.push(`  ${d.name}  ${d.handler} ${size}${d.path ? `  ${d.path}` : ''}${d.readOnly ? '  read-only' : ''}${t !== undefined && t !== null ? `  thread ${t}` : ''}` +
      `${op ? `  ${op.name} ${op.percent}%` : ''}`);
  }
  out.push(`targets (${cfg.targets.length})`);
  for (const t of cfg.targets) {
    out.push(`  ${t.name}  ${t.driver}${t.portals.length > 0 ? `  portals ${t.portals.join(', ')}` : ''}`);
    const lunLine = (m: { lun: number; device: string; readOnly: boolean }, group: string, indent: string): string => {
      const row = luns.find(l => l.target === t.name && l.group === group && l.lun === m.lun);
      return `${indent}LUN ${m.lun}  ${m.device}${m.readOnly ? '  read-only' : ''}${row?.taskSetDepth ? `  depth ${row.taskSetDepth}` : ''}`;
    };
    for (const m of t.luns) out.push(lunLine(m, '', '    '));
    for (const g of t.groups) {
      out.push(`    group ${g.name}: ${g.initiators.join(', ')}`);
      for (const m of g.luns) out.push(lunLine(m, g.name, '      '));
    }
    for (const s of sessions.filter(x => x.target === t.name)) {
      out.push(`    session TSIH ${s.tsih}  ${s.initiatorName}  ISID ${s.isid}${s.portal ? `  via ${s.portal}` : ''}${s.thread !== null ? `  thread ${s.thread}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  return rows.map(r => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export function formatSessions(sessions: readonly SessionInfo[]): string {
  if (sessions.length === 0) return 'no sessions\n';
  return table([
    ['TSIH', 'INITIATOR', 'ISID', 'TARGET', 'PORTAL', 'THREAD'],
    ...sessions.map(s => [String(s.tsih), s.initiatorName, s.isid, s.target, s.portal || '-', s.thread === null ? '-' : String(s.thread)]),
  ]);
}

/** Latency percentile (µs) from histogram bucket counts: the bound of the bucket it falls in. */
export function percentileUs(bounds: readonly number[], buckets: readonly number[], p: number): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  let cum = 0;
  for (let i = 0; i < buckets.length; i++) {
    cum += buckets[i];
    if (cum >= p * total) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}

const MIB = 1024 * 1024;
/** ECMA-48 CUP (cursor to 1;1) and ED 2 (erase the display). */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';
const fmtUs = (us: number | undefined): string => (us === undefined ? '-' : us === Infinity ? '>1s' : us >= 1000 ? `${us / 1000}ms` : `${us}us`);

/** What a row of the stats table is made of: a LUN's device or a session. */
interface RowStats {
  readonly commands: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly errorsBySenseKey: { readonly [name: string]: number };
  readonly otherErrors: number;
  readonly latency: { readonly boundsUs: readonly number[]; readonly buckets: readonly number[] };
  readonly taskSetDepth: number;
}

/** The columns after the row's name: totals, or with `p` (the same row before) rates over `seconds`. */
function statsColumns(s: RowStats, p: RowStats | undefined, seconds: number): string[] {
  const d = (f: (x: RowStats) => number): number => f(s) - (p ? f(p) : 0);
  const buckets = s.latency.buckets.map((n, i) => n - (p?.latency.buckets[i] ?? 0));
  const errors = (x: RowStats): number => Object.values(x.errorsBySenseKey).reduce((a, b) => a + b, 0) + x.otherErrors;
  const pct = [fmtUs(percentileUs(s.latency.boundsUs, buckets, 0.5)), fmtUs(percentileUs(s.latency.boundsUs, buckets, 0.99))];
  return seconds > 0
    ? [(d(x => x.commands) / seconds).toFixed(0), (d(x => x.readBytes) / MIB / seconds).toFixed(1), (d(x => x.writeBytes) / MIB / seconds).toFixed(1),
      ...pct, String(d(errors)), String(s.taskSetDepth)]
    : [String(s.commands), (s.readBytes / MIB).toFixed(1), (s.writeBytes / MIB).toFixed(1), ...pct, String(errors(s)), String(s.taskSetDepth)];
}

/**
 * The stats table, one row per LUN and one per session: totals, or with `prev` the rates over the
 * interval (IOPS, MiB/s, latency percentiles of the commands in it, errors in it), like spdk_top.
 */
export function formatStats(now: StatsView, prev?: StatsView): string {
  const seconds = prev ? Math.max(0.001, (now.time - prev.time) / 1000) : 0;
  const tail = prev ? ['IOPS', 'READ MiB/s', 'WRITE MiB/s', 'P50', 'P99', 'ERRORS', 'DEPTH'] : ['COMMANDS', 'READ MiB', 'WRITE MiB', 'P50', 'P99', 'ERRORS', 'DEPTH'];
  const before = new Map((prev?.devices ?? []).map(d => [d.device, d]));
  const lunRows: string[][] = [['TARGET', 'LUN', 'DEVICE', ...tail]];
  for (const l of now.luns) {
    const name = l.group === '' ? l.target : `${l.target} (${l.group})`;
    const s: DeviceStatsView | null = l.stats;
    lunRows.push([name, String(l.lun), l.device, ...(s ? statsColumns(s, before.get(l.device), seconds) : tail.map(() => '-'))]);
  }
  const sessionsBefore = new Map((prev?.sessionStats ?? []).map(x => [x.tsih, x]));
  const sessionRows: string[][] = [['TSIH', 'INITIATOR', 'TARGET', ...tail]];
  for (const x of now.sessionStats) {
    const p: SessionStatsView | undefined = sessionsBefore.get(x.tsih);
    // A TSIH reused by a new session starts from zero.
    const same = p !== undefined && p.initiatorName === x.initiatorName && p.isid === x.isid ? p : undefined;
    sessionRows.push([String(x.tsih), x.initiatorName, x.target, ...statsColumns(x, same, seconds)]);
  }
  const threads = now.threads.map(t => {
    const q = prev?.threads.find(x => x.index === t.index);
    const busy = (t.counters.busyMs ?? 0) - (q?.counters.busyMs ?? 0);
    const idle = (t.counters.idleMs ?? 0) - (q?.counters.idleMs ?? 0);
    const full = (t.counters['scheduler.ringFull'] ?? 0) - (q?.counters['scheduler.ringFull'] ?? 0);
    const depth = (t.counters['ring.inboundDepth'] ?? 0) + (t.counters['ring.outboundDepth'] ?? 0);
    return `thread ${t.index}: ${busy + idle > 0 ? ((100 * busy) / (busy + idle)).toFixed(0) : '0'}% busy, ${t.counters.sessions ?? 0} sessions, ` +
      `ring depth ${depth}, ring full ${full}, pool buffers ${t.counters.poolBuffersInUse ?? 0}`;
  });
  const inUse = now.pool.reduce((a, c) => a + c.inUse, 0);
  const operations = now.devices.filter(d => d.operation).map(d => `device ${d.device}: ${d.operation!.name} ${d.operation!.percent}% done\n`);
  return `${operations.join('')}${table(lunRows)}\n${now.sessionStats.length > 0 ? table(sessionRows) : 'no sessions\n'}\n` +
    `${threads.map(t => t + '\n').join('')}pool buffers in use: ${inUse}; sessions: ${now.sessions}\n`;
}

/** The --control option every admin command takes. */
export function controlSocketOption(): Option {
  return new Option('--control <path>', 'control socket of the daemon (default: $NEXUS_CONTROL or ./nexus-state/control.sock)');
}

/** Adds the admin commands to `program`; each sets its exit status through `done`. */
export function registerAdminCommands(program: Command, deps: AdminDeps, done: (r: Promise<number>) => void): void {
  const controlOption = (): Option => controlSocketOption();

  program.command('ls')
    .description('show devices, targets, LUNs, groups and sessions of the running daemon as a tree')
    .option('--json', 'print the same as JSON')
    .addOption(controlOption())
    .action((o: ControlOption & { json?: boolean }) => {
      done(withDaemon(o, deps, async (c) => {
        const [cfg, luns, sessions] = await Promise.all([c.call('config.get'), c.call('luns.list'), c.call('sessions.list')]);
        deps.io.stdout(o.json
          ? json({ config: cfg, luns, sessions })
          : formatTree(cfg as ConfigDoc, luns as LunListRow[], sessions as SessionInfo[]));
        return EXIT_OK;
      }));
    });

  const session = program.command('session').description('list sessions or log one out');
  session.command('ls')
    .description('list sessions: TSIH, initiator, ISID, target, portal, engine thread')
    .option('--json', 'print as JSON (with negotiated keys)')
    .addOption(controlOption())
    .action((o: ControlOption & { json?: boolean }) => {
      done(withDaemon(o, deps, async (c) => {
        const sessions = (await c.call('sessions.list')) as SessionInfo[];
        deps.io.stdout(o.json ? json(sessions) : formatSessions(sessions));
        return EXIT_OK;
      }));
    });
  session.command('logout')
    .description('force one session to log out (Async Message logout request, then dropped after --wait)')
    .argument('<tsih>', 'TSIH of the session (nexus session ls)')
    .option('--wait <ms>', 'how long the initiator has to log out before the session is dropped', '2000')
    .addOption(controlOption())
    .action((tsihText: string, o: ControlOption & { wait: string }) => {
      const tsih = Number(tsihText);
      const waitMs = Number(o.wait);
      if (!Number.isInteger(tsih) || !Number.isInteger(waitMs)) {
        deps.io.stderr('nexus: TSIH and --wait must be integers\n');
        done(Promise.resolve(EXIT_USAGE));
        return;
      }
      done(withDaemon(o, deps, async (c) => {
        await c.call('session.logout', { tsih, waitMs });
        deps.io.stdout(`session ${tsih} logged out\n`);
        return EXIT_OK;
      }));
    });

  program.command('stats')
    .description('statistics per LUN and per session (commands, bytes, errors, latency percentiles, depth), engine threads')
    .option('--json', 'print stats.get as JSON')
    .option('--watch [seconds]', 'refresh every SECONDS (default 1) with rates over the interval, until Ctrl-C')
    .option('--count <n>', 'with --watch: stop after N refreshes')
    .addOption(controlOption())
    .action((o: ControlOption & { json?: boolean; watch?: string | boolean; count?: string }) => {
      const interval = o.watch === undefined || o.watch === true ? 1 : Number(o.watch);
      const count = o.count === undefined ? Infinity : Number(o.count);
      if (!(interval > 0) || !(count > 0)) {
        deps.io.stderr('nexus: --watch seconds and --count must be positive numbers\n');
        done(Promise.resolve(EXIT_USAGE));
        return;
      }
      done(withDaemon(o, deps, async (c) => {
        let prev = (await c.call('stats.get')) as StatsView;
        if (o.watch === undefined) {
          deps.io.stdout(o.json ? json(prev) : formatStats(prev));
          return EXIT_OK;
        }
        let stop = false;
        let wake: (() => void) | undefined;
        const onSignal = (): void => { stop = true; wake?.(); };
        deps.signals.on('SIGINT', onSignal);
        try {
          for (let i = 0; i < count && !stop; i++) {
            await new Promise<void>(r => { wake = r; setTimeout(r, interval * 1000); });
            if (stop) break;
            const now = (await c.call('stats.get')) as StatsView;
            const title = `${new Date(now.time).toISOString()}  every ${interval} s (Ctrl-C ends)\n`;
            // On a terminal one screen redrawn in place (cursor home, clear), like spdk_top.
            deps.io.stdout(o.json ? JSON.stringify(now) + '\n' : `${deps.tty ? CLEAR_SCREEN : ''}${title}${formatStats(now, prev)}\n`);
            prev = now;
          }
        } finally {
          deps.signals.removeListener('SIGINT', onSignal);
        }
        return EXIT_OK;
      }));
    });

  const config = program.command('config').description('the running configuration: get, apply a topology file, save');
  config.command('get')
    .description('print the running topology as JSON (a topology file `nexus validate` accepts)')
    .option('--secrets', 'include CHAP secrets (redacted otherwise)')
    .addOption(controlOption())
    .action((o: ControlOption & { secrets?: boolean }) => {
      done(withDaemon(o, deps, async (c) => {
        deps.io.stdout(json(await c.call('config.get', { secrets: o.secrets === true })));
        return EXIT_OK;
      }));
    });
  registerChangeCommands(program, config, controlOption, deps, done);
}
