/**
 * The Ceph RBD scenario (`npm run bench -- --rbd`): Nexus's rbd handler beside tgtd's bs_rbd
 * (Debian tgt-rbd) on one image of a throw-away single-node cluster that the bench starts
 * (test/ceph/cluster.ts: one monitor, manager and BlueStore OSD on loopback, stopped by PID), with
 * the same clients in interleaved rounds (run.ts's comparison), plus `rbd bench` at the same depth
 * and request size as the ceiling of what the cluster gives this host. The image is written whole
 * first: reads of never-written objects never reach the OSD and would flatter every reader.
 * Targets (issue 15): 4 KiB random read and write QD32 >= 1.5x tgtd and >= 80 % of rbd bench;
 * 1 MiB sequential >= tgtd. Not part of CI.
 */
import { loadavg } from 'node:os';
import { startCluster, type CephCluster } from '../../test/ceph/cluster';
import { runClient } from './clients';
import { median, type Row } from './report';
import type { TargetOptions } from './targets';
import type { Cell } from './workloads';

export const RBD_POOL = 'rbd';
export const RBD_IMAGE = 'bench';

export interface BenchCluster {
  cluster: CephCluster;
  rbd: NonNullable<TargetOptions['rbd']>;
  stop(): Promise<void>;
}

/** Starts the cluster, creates the image and writes it whole (4 MiB sequential writes). */
export async function startBenchCluster(imageMiB: number): Promise<BenchCluster> {
  console.error('rbd: starting a single-node Ceph cluster on loopback');
  const cluster = await startCluster({ osdBytes: Math.max(4096, imageMiB * 3) * 1024 * 1024 });
  try {
    await cluster.rbd('create', '--size', `${imageMiB}M`, `${RBD_POOL}/${RBD_IMAGE}`);
    const t0 = Date.now();
    console.error(`rbd: filling ${RBD_POOL}/${RBD_IMAGE} (${imageMiB} MiB)`);
    const fill = await runClient(['rbd', '-c', cluster.conf, 'bench', '--io-type', 'write', '--io-pattern', 'seq', '--io-size', '4M',
      '--io-threads', '8', '--io-total', `${imageMiB}M`, `${RBD_POOL}/${RBD_IMAGE}`], undefined, 1_800_000);
    if (!fill.ok) throw new Error(`rbd bench fill failed: ${fill.output.slice(-300)}`);
    console.error(`rbd: filled in ${Math.round((Date.now() - t0) / 1000)} s`);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return {
    cluster,
    rbd: { pool: RBD_POOL, image: RBD_IMAGE, conf: cluster.conf, keyring: cluster.keyring },
    stop: () => cluster.stop(),
  };
}

/** "elapsed: 5   ops: 12345   ops/sec: 2469.1   bytes/sec: ..." - the closing summary line. */
export function parseRbdBench(output: string): number | undefined {
  const all = [...output.matchAll(/elapsed:\s*[\d.]+\s+ops:\s*\d+\s+ops\/sec:\s*([\d.]+)/g)];
  return all.length > 0 ? Number(all[all.length - 1][1]) : undefined;
}

export interface CeilingSample { cell: string; round: number; iops: number; error?: string }

/** rbd bench's rate per cell seen last time, to size the next run to about `secs` seconds. */
const rates = new Map<string, number>();

/** `rbd bench` with the cell's request size, direction, pattern and depth. */
export async function rbdBenchCeiling(b: BenchCluster, cell: Cell, round: number, secs: number, cpus: string | undefined): Promise<CeilingSample> {
  const argv = (total: number): string[] => ['rbd', '-c', b.cluster.conf, 'bench',
    '--io-type', cell.op === 'randread' || cell.op === 'seqread' ? 'read' : 'write',
    '--io-pattern', cell.op === 'randread' || cell.op === 'randwrite' ? 'rand' : 'seq',
    '--io-size', String(cell.bytes), '--io-threads', String(cell.qd), '--io-total', String(total), `${b.rbd.pool}/${b.rbd.image}`];
  let rate = rates.get(cell.id);
  if (rate === undefined) {
    // A pilot (not measured) finds the rate.
    const pilot = await runClient(argv(cell.bytes * cell.qd * 64), cpus, 120_000);
    rate = parseRbdBench(pilot.output);
    if (!pilot.ok || rate === undefined) return { cell: cell.id, round, iops: 0, error: `rbd bench pilot: ${pilot.output.slice(-200)}` };
  }
  const total = Math.max(cell.bytes * cell.qd, Math.round(rate * secs) * cell.bytes);
  const r = await runClient(argv(total), cpus, secs * 6_000 + 60_000);
  const iops = parseRbdBench(r.output);
  if (!r.ok || iops === undefined) return { cell: cell.id, round, iops: 0, error: `rbd bench: ${r.output.slice(-200)}` };
  rates.set(cell.id, iops);
  return { cell: cell.id, round, iops };
}

/** The goals per cell: Nexus/tgtd, and Nexus/rbd bench where one is set. */
function goals(cell: Cell): { tgt: number; ceiling?: number } {
  return cell.bytes <= 4096 ? { tgt: 1.5, ceiling: 0.8 } : { tgt: 1 };
}

/** Nexus and tgtd against the ceiling, with the goals met or not. */
export function formatRbdRatios(rows: Row[], ceilings: CeilingSample[]): string {
  const lines = [
    `# rbd: host load average now ${loadavg().map(x => x.toFixed(1)).join(' ')}`,
    'cell                 | Nexus IOPS | tgtd IOPS | rbd bench | N/tgtd | goal           | N/rbd bench | goal',
    '---------------------|-----------:|----------:|----------:|-------:|----------------|------------:|---------------',
  ];
  const f = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? '-' : d === 0 ? String(Math.round(v)) : v.toFixed(d));
  for (const r of rows) {
    const ceiling = median(ceilings.filter(c => c.cell === r.cell.id && c.iops > 0).map(c => c.iops));
    const n = r.nexus?.iops;
    const t = r.tgt?.iops;
    const g = goals(r.cell);
    const vsTgt = n !== undefined && t !== undefined ? n / t : NaN;
    const vsCeiling = n !== undefined ? n / ceiling : NaN;
    const met = (x: number, goal: number): string => (Number.isFinite(x) ? (x >= goal ? 'met' : 'NOT met') : '');
    lines.push(`${r.cell.id.padEnd(20)} | ${f(n).padStart(10)} | ${f(t).padStart(9)} | ${f(ceiling).padStart(9)} | ${f(vsTgt, 2).padStart(6)} | ` +
      `>= ${g.tgt} ${met(vsTgt, g.tgt)}`.padEnd(14) + ` | ${f(vsCeiling, 2).padStart(11)} | ` + (g.ceiling !== undefined ? `>= ${g.ceiling} ${met(vsCeiling, g.ceiling)}` : '-'));
  }
  return lines.join('\n');
}
