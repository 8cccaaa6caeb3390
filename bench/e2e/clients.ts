/**
 * The real initiators that drive both targets, each run as its own process:
 *   iscsi-perf (libiscsi-bin): READ only (it has no write mode), random or sequential LBAs,
 *     time-bounded by its -t option; prints "iops average N".
 *   qemu-img bench (qemu-utils, qemu's libiscsi block driver): reads or writes (-w) a fixed
 *     count of requests, sequentially or with a stride (-S); it has no random mode, so "random"
 *     4 KiB here is a 1 MiB + 4 KiB stride that touches a new page every request.
 * Client CPU comes from the wrapping shell's `times` (children's user+sys).
 */
import { spawn } from 'node:child_process';

export interface ClientRun {
  ok: boolean;
  output: string;
  wallSeconds: number;
  clientCpuSeconds: number;
}

/**
 * Run argv (optionally pinned) in its own process group, bounded by guardMs: then the whole group
 * (the wrapping shell and the client) gets SIGINT, and SIGKILL 10 s later. Never throws.
 */
export function runClient(argv: string[], cpus: string | undefined, guardMs: number): Promise<ClientRun> {
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  const full = ['bash', '-c', script, 'client', ...argv];
  const [cmd, args] = cpus === undefined ? [full[0], full.slice(1)] : ['taskset', ['-c', cpus, ...full]];
  const t0 = process.hrtime.bigint();
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = child.pid;
    const signal = (sig: NodeJS.Signals) => { if (group !== undefined) { try { process.kill(-group, sig); } catch { /* gone */ } } };
    let killTimer: NodeJS.Timeout | undefined;
    const stopTimer = setTimeout(() => { signal('SIGINT'); killTimer = setTimeout(() => signal('SIGKILL'), 10_000); }, guardMs);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', (e) => { out += String(e); });
    child.on('close', (code) => {
      clearTimeout(stopTimer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      // `times`: line 1 = the shell, line 2 = its children, "XmY.YYYs XmY.YYYs" each.
      const lines = out.trimEnd().split('\n');
      const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
      const cpu = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
      res({ ok: code === 0, output: out.replace(/\r/g, '\n'), wallSeconds: wall, clientCpuSeconds: cpu });
    });
  });
}

export interface IscsiPerfArgs {
  url: string;
  initiator: string;
  qd: number;
  blocks: number;
  random: boolean;
  seconds: number;
}

export function iscsiPerfArgv(a: IscsiPerfArgs): string[] {
  return ['iscsi-perf', '-i', a.initiator, '-m', String(a.qd), '-b', String(a.blocks), ...(a.random ? ['-r'] : []),
    '-t', String(a.seconds), a.url];
}

/** "iops average 123856 (483 MB/s)" - the last average printed is over the whole run. */
export function parseIscsiPerf(output: string): number | undefined {
  const all = [...output.matchAll(/iops average (\d+)/g)];
  return all.length > 0 ? Number(all[all.length - 1][1]) : undefined;
}

export interface QemuBenchArgs {
  spec: string;
  write: boolean;
  qd: number;
  bytes: number;
  count: number;
  step: number;
  offset: number;
}

export function qemuBenchArgv(a: QemuBenchArgs): string[] {
  return ['qemu-img', 'bench', '-f', 'raw', '-t', 'none', ...(a.write ? ['-w', '--pattern=165'] : []),
    '-d', String(a.qd), '-s', String(a.bytes), '-S', String(a.step), '-o', String(a.offset), '-c', String(a.count), a.spec];
}

/** "Run completed in 0.166 seconds." */
export function parseQemuBench(output: string): number | undefined {
  const m = /Run completed in ([\d.]+) seconds/.exec(output);
  return m ? Number(m[1]) : undefined;
}
