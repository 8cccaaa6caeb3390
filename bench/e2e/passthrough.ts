/**
 * The pass-through scenario (`npm run bench -- --passthrough`): Nexus's passthrough handler beside
 * tgtd's bs_sg on the same scsi_debug disk (delay=0, in RAM), in the kernel VM of
 * test/kernel-vm/ (Debian's kernel under QEMU, the host's / over 9p): both targets and the
 * clients run inside the guest, on its loopback (passthrough-guest.sh). The same clients
 * (iscsi-perf, qemu-img bench), interleaved rounds; the table gives the medians and the
 * Nexus/tgtd ratios beside the issue's goals (>= 1.5x on 4 KiB random QD32, >= 1x on 1 MiB
 * sequential), and each target's CPU milliseconds per I/O (its CPU time, all threads, over the
 * measurement). Not part of CI. Under TCG one emulated CPU does everything, so the absolute
 * figures say little; the ratios compare the two targets on the same device and CPU.
 * Options: --rounds N (default 3), --secs S (default 5). Output: the table on stdout and
 * .bench-out/passthrough-<timestamp>.json; the last line counts measurements ("N passed,
 * N failed"), a measurement passing when its client reported a rate.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { inCi, missing, tool } from '../../test/helpers/prereq';
import { median } from './report';
import { prepareNexusBuild } from './targets';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, '.bench-out');
const CACHE = join(ROOT, '.cache/kernel-vm');

/** The cells the guest measures, with the issue's goal for Nexus/tgtd. */
export const PASSTHROUGH_CELLS = [
  { id: 'rr4k-qd32', what: '4 KiB random read, QD32 (iscsi-perf)', goal: 1.5 },
  { id: 'rw4k-qd32', what: '4 KiB strided write, QD32 (qemu-img bench)', goal: 1.5 },
  { id: 'sr1m-qd8', what: '1 MiB sequential read, QD8 (iscsi-perf)', goal: 1 },
  { id: 'sw1m-qd8', what: '1 MiB sequential write, QD8 (qemu-img bench)', goal: 1 },
] as const;

export interface PassthroughSample { target: 'nexus' | 'tgt'; cell: string; round: number; iops: number }

/** "KVMBENCH: sample <target> <cell> <round> <iops>" lines of the guest's console. */
export function parseSamples(console: string): PassthroughSample[] {
  const out: PassthroughSample[] = [];
  for (const m of console.matchAll(/KVMBENCH: sample (nexus|tgt) (\S+) (\d+) (\d+)/g)) {
    out.push({ target: m[1] as 'nexus' | 'tgt', cell: m[2], round: Number(m[3]), iops: Number(m[4]) });
  }
  return out;
}

/** "KVMBENCH: cpu <target> <cell> <round> <ticks> <seconds>": the target's CPU time over one measurement. */
export interface PassthroughCpu { target: 'nexus' | 'tgt'; cell: string; round: number; ticks: number; seconds: number }

export function parseCpu(console: string): PassthroughCpu[] {
  const out: PassthroughCpu[] = [];
  for (const m of console.matchAll(/KVMBENCH: cpu (nexus|tgt) (\S+) (\d+) (\d+) ([\d.]+)/g)) {
    out.push({ target: m[1] as 'nexus' | 'tgt', cell: m[2], round: Number(m[3]), ticks: Number(m[4]), seconds: Number(m[5]) });
  }
  return out;
}

export interface PassthroughRow {
  cell: string; what: string; goal: number; nexus: number; tgt: number; ratio: number;
  /** Median CPU milliseconds per I/O of each target (its CPU time over the measurement / IOs in it). */
  nexusCpuMs: number; tgtCpuMs: number;
}

/**
 * Median IOPS per target and cell over the rounds that measured something, and the median CPU
 * cost per I/O (`hz` clock ticks per second; the IOs of a measurement are its IOPS times its wall
 * seconds, which for the writes include qemu-img's first, shorter run).
 */
export function passthroughRows(samples: PassthroughSample[], cpu: PassthroughCpu[] = [], hz = 100): PassthroughRow[] {
  return PASSTHROUGH_CELLS.map(c => {
    const of = (t: 'nexus' | 'tgt'): number => median(samples.filter(s => s.cell === c.id && s.target === t && s.iops > 0).map(s => s.iops));
    const cpuOf = (t: 'nexus' | 'tgt'): number => median(samples.filter(s => s.cell === c.id && s.target === t && s.iops > 0).flatMap(s => {
      const u = cpu.find(x => x.target === t && x.cell === c.id && x.round === s.round);
      return u && u.seconds > 0 ? [(u.ticks * 1000 / hz) / (s.iops * u.seconds)] : [];
    }));
    const nexus = of('nexus');
    const tgt = of('tgt');
    return { cell: c.id, what: c.what, goal: c.goal, nexus, tgt, ratio: nexus / tgt, nexusCpuMs: cpuOf('nexus'), tgtCpuMs: cpuOf('tgt') };
  });
}

function boot(rounds: number, secs: number): Promise<string> {
  const kv = readdirSync(join(CACHE, 'kroot/lib/modules'))[0];
  const vmSeconds = 240 + rounds * PASSTHROUGH_CELLS.length * 2 * (secs * 8 + 20);
  const args = ['-k', '10', String(vmSeconds), 'qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-cpu', 'max', '-m', '1024', '-smp', '2',
    '-kernel', join(CACHE, `kroot/boot/vmlinuz-${kv}`), '-initrd', join(CACHE, 'initrd.gz'),
    '-append', `console=ttyS0 quiet panic=-1 guest_script=${ROOT}/test/kernel-vm/guest/init.sh kvm_cache=${CACHE} ` +
      `kvm_test=${ROOT}/bench/e2e/passthrough-guest.sh kvm_root=${ROOT} kvm_bench=${rounds},${secs} kvm_timeout=${vmSeconds - 30}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', '-nic', 'none'];
  console.error(`bench passthrough: booting the VM (at most ${vmSeconds} s)`);
  return new Promise(res => {
    const vm = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    vm.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      out += s;
      for (const line of s.replace(/\r/g, '').split('\n')) if (line.startsWith('KVMBENCH:')) console.error(`  ${line}`);
    });
    vm.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    vm.on('close', () => res(out.replace(/\r/g, '')));
  });
}

export async function passthroughBench(argv: { rounds?: string; secs?: string }): Promise<void> {
  const rounds = Math.max(1, Math.min(Number(argv.rounds ?? 3), 10));
  const secs = Math.max(2, Math.min(Number(argv.secs ?? 5), 30));
  const why = missing(...['qemu-system-x86_64', 'cpio', 'iscsi-perf', 'qemu-img', 'tgtd', 'tgtadm'].map(tool));
  const n = rounds * PASSTHROUGH_CELLS.length * 2;
  if (why.length > 0) {
    for (const w of why) console.log(`bench: ${inCi() ? 'FAILED (CI=true)' : 'skipped'}: ${w}`);
    console.log(inCi() ? `0 passed, ${n} failed` : `0 passed, 0 failed, ${n} skipped`);
    if (inCi()) process.exitCode = 1;
    return;
  }
  const setup = spawnSync('bash', [join(ROOT, 'test/kernel-vm/setup.sh'), CACHE], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_500_000 });
  if (setup.status !== 0) throw new Error('kernel VM setup failed (test/kernel-vm/setup.sh)');
  const build = prepareNexusBuild(ROOT);
  const load0 = loadavg()[0];
  const t0 = Date.now();
  const console_ = await boot(rounds, secs);
  const samples = parseSamples(console_);
  const hz = Number(/clock ticks\/s (\d+)/.exec(console_)?.[1] ?? 100);
  const rows = passthroughRows(samples, parseCpu(console_), hz);
  const load1 = loadavg()[0];
  console.log(`# pass-through: Nexus passthrough vs tgtd bs_sg, one scsi_debug disk (delay=0), in the kernel VM under TCG; ${rounds} rounds x ${secs} s; Nexus ${build}`);
  console.log(`# host load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after; ${Math.round((Date.now() - t0) / 1000)} s`);
  for (const line of console_.split('\n')) if (/KVMBENCH: (device|targets up|nexus did not|tgtd setup|error|warm)/.test(line)) console.log(`# ${line.slice(10)}`);
  console.log('cell        | what                                        | Nexus IOPS | tgtd IOPS | Nexus/tgtd | goal          | CPU ms/IO Nexus | tgtd');
  console.log('------------|---------------------------------------------|-----------:|----------:|-----------:|---------------|----------------:|-----:');
  for (const r of rows) {
    const f = (v: number): string => (Number.isFinite(v) ? String(Math.round(v)) : '-');
    const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
    const verdict = Number.isFinite(r.ratio) ? (r.ratio >= r.goal ? 'met' : 'NOT met') : '';
    console.log(`${r.cell.padEnd(11)} | ${r.what.padEnd(43)} | ${f(r.nexus).padStart(10)} | ${f(r.tgt).padStart(9)} | ` +
      `${(Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-').padStart(10)} | ${`>= ${r.goal}x ${verdict}`.padEnd(13)} | ${ms(r.nexusCpuMs).padStart(15)} | ${ms(r.tgtCpuMs).padStart(4)}`);
  }
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `passthrough-${new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')}.json`);
  writeFileSync(path, JSON.stringify({ rounds, secs, build, loadAverage: [load0, load1], rows, samples, cpu: parseCpu(console_) }, null, 2));
  console.log(`# wrote ${path}`);
  const passed = samples.filter(s => s.iops > 0).length;
  console.log(`${passed} passed, ${n - passed} failed`);
  if (passed < n) process.exitCode = 1;
}
