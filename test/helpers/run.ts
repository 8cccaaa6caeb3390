import { execFile } from 'node:child_process';
import * as path from 'node:path';

/** The checkout's root: where the tests run tools and the CLI from. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** How a tool ended: its exit code (-1 when it was killed or could not start) and its output. */
export interface Run { code: number; stdout: string; stderr: string }

/** Runs `cmd` to its end (at most `timeoutMs`), from ROOT unless `cwd` says otherwise; `input` goes to its stdin. */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, [...args], { cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 60000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The `nexus` command from the sources, as a user of the checkout runs it. */
export function nexusCli(...args: string[]): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args]);
}
