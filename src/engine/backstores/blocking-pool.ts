/**
 * Blocking work off the engine's threads (DESIGN.md §3): system calls that have no asynchronous
 * form and may take milliseconds (fdatasync, fsync, long overwrites) run in a piscina pool.
 *
 * Why not the libuv thread pool that fs.promises uses: it has four threads for the whole process,
 * shared by every file read, DNS lookup and crypto call, so a burst of syncs to a slow disk (a
 * write-through LUN, SYNCHRONIZE CACHE from many initiators) would stall unrelated I/O behind
 * them. The pool here is separate, bounded, and its threads exit when idle. A task costs a
 * worker round trip (~30 µs, DESIGN.md §10): it is for work measured in milliseconds, never per
 * page-cache I/O.
 *
 * One pool per thread that uses it (module state is per thread); errors come back as values.
 */
import * as path from 'node:path';
import Piscina from 'piscina';
import type { BlockingResult, BlockingTask } from './blocking-tasks';

export type { BlockingResult, BlockingTask } from './blocking-tasks';

export interface BlockingPoolOptions {
  /** Worker threads at most (default 2). */
  maxThreads?: number;
  /** An idle worker exits after this long (ms, default 10 000). */
  idleTimeoutMs?: number;
}

export class BlockingPool {
  private readonly piscina: Piscina;
  private closed = false;

  constructor(opts: BlockingPoolOptions = {}) {
    const ts = __filename.endsWith('.ts');
    this.piscina = new Piscina({
      filename: path.join(__dirname, ts ? 'blocking-tasks.ts' : 'blocking-tasks.js'),
      execArgv: ts ? ['--require', require.resolve('tsx/cjs')] : [],
      minThreads: 0,
      maxThreads: Math.max(1, opts.maxThreads ?? 2),
      idleTimeout: opts.idleTimeoutMs ?? 10_000,
      name: 'default',
    });
  }

  /** Runs one task; an error of the pool itself (closed, worker crash) is an errno value too. */
  async run(task: BlockingTask): Promise<BlockingResult> {
    if (this.closed) return { ok: false, errno: 'ESHUTDOWN', message: 'blocking pool closed' };
    try {
      const r = (await this.piscina.run(task)) as BlockingResult;
      tasksRun++;
      return r;
    } catch (e) {
      return { ok: false, errno: 'EIO', message: `blocking pool: ${(e as Error).message}` };
    }
  }

  /** Tasks completed since start, and threads running now. */
  get stats(): { completed: number; threads: number } {
    return { completed: this.piscina.completed, threads: this.piscina.threads.length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.destroy();
  }
}

let perThread: BlockingPool | undefined;
let users = 0;
let tasksRun = 0;

/** Tasks run to an answer by every pool of this thread since start (statistics, tests). */
export function blockingTasksRun(): number {
  return tasksRun;
}

/**
 * This thread's pool for one more user (a backstore that syncs): created on first use, closed
 * when its last user releases it, so an idle engine leaves no threads behind.
 */
export function acquireBlockingPool(): BlockingPool {
  perThread ??= new BlockingPool();
  users++;
  return perThread;
}

export async function releaseBlockingPool(): Promise<void> {
  if (users === 0) return;
  if (--users > 0) return;
  const p = perThread;
  perThread = undefined;
  await p?.close();
}
