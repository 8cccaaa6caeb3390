// The well-behaved side of the hostile-load test: real initiators nobody here wrote (DESIGN.md
// §9), each a child process registered by PID so that after() hooks can stop them.
//   - qemu-io verified rounds: log in, read back the previous round's pattern, write 64 KiB of
//     this round's pattern at the session's own offset, read it back and compare, log out; again.
//     qemu-io times every command itself ("1 ops; ... (x MiB/sec and y ops/sec)"): 1/y seconds.
//   - one iscsi-perf stream (READ, libiscsi-bin) whose per-second "iops current" lines give its
//     throughput and any second without a completion.
// And the daemon's resident set, sampled from /proc/PID/status.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Child processes started by this run, by PID, for the after() hooks. */
export class Children {
  private readonly live = new Map<number, ChildProcess>();

  start(cmd: string, args: string[]): ChildProcess {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (c.pid !== undefined) {
      const pid = c.pid;
      this.live.set(pid, c);
      c.once('exit', () => this.live.delete(pid));
    }
    return c;
  }

  /** SIGKILL every child still running, each by its PID. */
  killAll(): void {
    for (const pid of this.live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.live.clear();
  }

  get count(): number {
    return this.live.size;
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  timedOut: boolean;
}

/** Run to completion, or SIGKILL after `guardMs`. */
export function runChild(children: Children, cmd: string, args: string[], guardMs: number): Promise<Exit> {
  return new Promise((resolve) => {
    const c = children.start(cmd, args);
    let out = '';
    let timedOut = false;
    c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    const guard = setTimeout(() => {
      timedOut = true;
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    }, guardMs);
    c.on('error', (e) => (out += String(e)));
    c.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, out, timedOut });
    });
  });
}

export interface QemuSessionSpec {
  port: number;
  target: string;
  initiator: string;
  /** Byte offset of this session's 64 KiB on LUN 0. */
  offset: number;
  /** Seed of the per-round patterns. */
  seed: number;
}

export interface QemuStats {
  initiator: string;
  rounds: number;
  /** Rounds whose qemu-io failed (exit code, timeout, missing lines), with the reason. */
  failures: string[];
  /** "Pattern verification failed" lines: data read back is not what was written. */
  mismatches: number;
  /** The longest a single command waited, by qemu-io's own timing, in seconds. */
  maxCommandSec: number;
  /** The longest whole round (process start, login, commands, logout), in seconds. */
  maxRoundSec: number;
}

export const ROUND_BYTES = 64 * 1024;
/** A round that takes longer than this is killed and counted as failed (libiscsi gives up after ~20 s). */
const ROUND_GUARD_MS = 30_000;

/** The pattern byte of a round: 1..255, never equal to the previous round's. */
export function roundPattern(seed: number, session: number, round: number): number {
  return 1 + ((seed + session * 61 + round * 7) % 255);
}

/**
 * qemu-io's per-command lines: "64 KiB, 1 ops; 00.00 sec (61.544 MiB/sec and 984.7046 ops/sec)",
 * and past a second "64 KiB, 1 ops; 0:00:05.60 (11.429 KiB/sec and 0.1786 ops/sec)" (no "sec").
 */
export function commandSeconds(out: string): number[] {
  return [...out.matchAll(/, 1 ops; [\d.:]+(?: sec)? \([^)]* and ([\d.]+|inf) ops\/sec\)/g)].map((m) => {
    const ops = Number(m[1]);
    return Number.isFinite(ops) && ops > 0 ? 1 / ops : 0;
  });
}

/** Verified rounds until `stop()` says so (checked between rounds). */
export async function qemuRounds(children: Children, spec: QemuSessionSpec, index: number, stop: () => boolean): Promise<QemuStats> {
  const s: QemuStats = { initiator: spec.initiator, rounds: 0, failures: [], mismatches: 0, maxCommandSec: 0, maxRoundSec: 0 };
  const opts = `driver=iscsi,transport=tcp,portal=127.0.0.1:${spec.port},target=${spec.target},lun=0,initiator-name=${spec.initiator}`;
  const hex = (b: number): string => `0x${b.toString(16)}`;
  let previousOk = false;
  for (let round = 0; !stop(); round++) {
    const cur = roundPattern(spec.seed, index, round);
    const cmds: string[] = [];
    // The previous round's data must still be there: nobody else writes this range.
    if (previousOk) cmds.push('-c', `read -P ${hex(roundPattern(spec.seed, index, round - 1))} ${spec.offset} ${ROUND_BYTES}`);
    cmds.push('-c', `write -P ${hex(cur)} ${spec.offset} ${ROUND_BYTES}`, '-c', `read -P ${hex(cur)} ${spec.offset} ${ROUND_BYTES}`);
    const t0 = Date.now();
    // stdbuf: line-buffered output, so a round killed by the guard still shows how far it got.
    const e = await runChild(children, 'stdbuf', ['-oL', '-eL', 'qemu-io', '--image-opts', ...cmds, opts], ROUND_GUARD_MS);
    const sec = (Date.now() - t0) / 1000;
    s.rounds++;
    s.maxRoundSec = Math.max(s.maxRoundSec, sec);
    const timed = commandSeconds(e.out);
    for (const c of timed) s.maxCommandSec = Math.max(s.maxCommandSec, c);
    const bad = (e.out.match(/Pattern verification failed/g) ?? []).length;
    s.mismatches += bad;
    const expected = cmds.length / 2;
    const done = (e.out.match(/^(wrote|read) \d+\/\d+ bytes/gm) ?? []).length;
    previousOk = !e.timedOut && e.code === 0 && done === expected && bad === 0;
    if (e.timedOut) s.failures.push(`round ${round} (started ${new Date(t0).toISOString().slice(11, 23)}): no end after ${ROUND_GUARD_MS} ms (killed), ${done}/${expected} commands done; output: ${e.out.trim().slice(-300)}`);
    else if (timed.length !== done) s.failures.push(`round ${round}: ${done} commands but ${timed.length} timing lines (output format?): ${e.out.trim().slice(-300)}`);
    else if (e.code !== 0 || done !== expected) s.failures.push(`round ${round}: exit ${e.code ?? e.signal}, ${done}/${expected} commands; ${e.out.trim().slice(-300)}`);
    if (s.failures.length > 5) break; // enough to judge; do not spin on a dead target
  }
  return s;
}

export interface PerfStats {
  /** Per-second "iops current" samples. */
  samples: number[];
  /** iscsi-perf's own "iops average" over the run. */
  average: number;
  /** The longest run of consecutive seconds with no completion. */
  longestZeroRunSec: number;
  ok: boolean;
  out: string;
}

/** iscsi-perf prints a \r-separated line per second; SIGINT ends it with "finished.". */
export function parsePerf(out: string, exitOk: boolean): PerfStats {
  const samples = [...out.matchAll(/iops current (\d+)/g)].map((m) => Number(m[1]));
  const avgs = [...out.matchAll(/iops average (\d+)/g)];
  let run = 0;
  let longest = 0;
  for (const v of samples) {
    run = v === 0 ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return {
    samples, average: avgs.length > 0 ? Number(avgs[avgs.length - 1][1]) : 0, longestZeroRunSec: longest,
    ok: exitOk && /finished\./.test(out), out,
  };
}

export interface PerfRun {
  /** SIGINT: iscsi-perf stops and prints its summary. */
  stop(): void;
  /** How many per-second samples it has printed so far. */
  samplesSoFar(): number;
  done: Promise<PerfStats>;
}

/** One iscsi-perf stream: sequential 4 KiB READs, `depth` in flight, until stop() or `maxSec`. */
export function iscsiPerf(children: Children, url: string, initiator: string, depth: number, maxSec: number): PerfRun {
  const c = children.start('iscsi-perf', ['-i', initiator, '-m', String(depth), '-b', '8', '-t', String(maxSec), url]);
  let out = '';
  c.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  c.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise<PerfStats>((resolve) => {
    c.on('error', (e) => (out += String(e)));
    c.on('close', (code) => resolve(parsePerf(out, code === 0)));
  });
  return {
    samplesSoFar: () => (out.match(/iops current \d+/g) ?? []).length,
    stop: () => {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGINT');
    },
    done,
  };
}

/** VmRSS of a process in bytes (Linux /proc/PID/status), undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
