// Start `nexus serve <topology>` in a child process on loopback for integration tests. The
// topology uses port 0; the actual port is read from the banner's "portal host:port" line.
// stop() sends SIGTERM to that PID and escalates to SIGKILL, so a failing test never leaves a
// daemon behind.
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

export async function startDaemon(topology: Record<string, unknown>, opts: { startTimeoutMs?: number; logLevel?: string } = {}): Promise<RunningDaemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nexus-it-'));
  const file = path.join(dir, 'topology.json');
  writeFileSync(file, JSON.stringify({ stateDir: path.join(dir, 'state'), ...topology }, null, 2));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'serve', file, '--log-level', opts.logLevel ?? 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
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
