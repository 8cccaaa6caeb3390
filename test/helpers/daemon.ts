// Start `nexus serve <topology>` in a child process on loopback for integration tests. The
// topology uses port 0; the actual port is read from the banner's "portal host:port" line.
// stop() sends SIGTERM to that PID and escalates to SIGKILL, so a failing test never leaves a
// daemon behind. `threads` sets engine.threads: 0 runs everything on the daemon's main thread,
// N > 0 runs the full feature phase and the units on N engine threads (the default).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface RunningDaemon {
  pid: number;
  host: string;
  port: number;
  /** Everything the daemon printed so far. */
  output(): string;
  /** SIGTERM, wait (bounded), SIGKILL if needed. Resolves with the exit code (null if killed). */
  stop(): Promise<number | null>;
  /** Temporary directory holding the topology file and state. */
  dir: string;
}

/** The engine thread counts every integration suite runs against (0 = single-threaded path). */
export const ENGINE_THREADS: readonly number[] = [2, 0];

export interface DaemonOptions {
  startTimeoutMs?: number;
  logLevel?: string;
  /** engine.threads of the topology (absent: what the topology says, else one per core). */
  threads?: number;
  /** Extra environment (NEXUS_TEST_HOOKS=1 for supervision tests). */
  env?: Record<string, string>;
}

export async function startDaemon(topology: Record<string, unknown>, opts: DaemonOptions = {}): Promise<RunningDaemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nexus-it-'));
  const file = path.join(dir, 'topology.json');
  const engine = opts.threads === undefined ? topology.engine : { ...(topology.engine as object | undefined), threads: opts.threads };
  writeFileSync(file, JSON.stringify({ stateDir: path.join(dir, 'state'), ...topology, ...(engine === undefined ? {} : { engine }) }, null, 2));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', file, '--log-level', opts.logLevel ?? 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let alive = true;
  void exited.then(() => (alive = false));

  const stop = async (): Promise<number | null> => {
    if (alive && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    const t = setTimeout(() => {
      if (alive && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 10000);
    const code = await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
    return code;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  for (;;) {
    const m = /portal (127\.0\.0\.1|\[::1\]):(\d+)/.exec(out);
    if (m) {
      return { pid: child.pid as number, host: m[1].replace(/[[\]]/g, ''), port: Number(m[2]), output: () => out, stop, dir };
    }
    if (!alive || Date.now() > deadline) {
      await stop();
      throw new Error(`daemon did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
