/**
 * The tasks of the blocking pool (blocking-pool.ts), run on a piscina worker thread. Each one is
 * a system call with no asynchronous form that may block for milliseconds or more: a sync to
 * stable storage, or a long overwrite. Descriptors are process-wide, so the engine's own
 * descriptor is used as it is. Errors come back as values with their errno name.
 */
import { fdatasyncSync, fsyncSync, writeSync } from 'node:fs';
import { errnoError } from './errno-sense';

export type BlockingTask =
  | { op: 'fdatasync'; fd: number }
  | { op: 'fsync'; fd: number }
  /** Writes `pattern` over [offset, offset + length), repeated (SANITIZE OVERWRITE and the like). */
  | { op: 'fill'; fd: number; offset: number; length: number; pattern: Uint8Array };

export type BlockingResult = { ok: true } | { ok: false; errno: string; message: string };

/** Largest single write of a fill: the pattern repeated up to this size, then reused. */
const FILL_CHUNK = 1024 * 1024;

function fill(fd: number, offset: number, length: number, pattern: Uint8Array): void {
  if (pattern.length === 0) throw errnoError('EINVAL', 'empty fill pattern');
  // A whole number of patterns, so every write starts at a pattern boundary.
  const chunk = Buffer.allocUnsafe(Math.max(pattern.length, Math.min(length, FILL_CHUNK - (FILL_CHUNK % pattern.length))));
  for (let i = 0; i < chunk.length; i += pattern.length) chunk.set(pattern.subarray(0, Math.min(pattern.length, chunk.length - i)), i);
  let done = 0;
  while (done < length) {
    const n = writeSync(fd, chunk, 0, Math.min(chunk.length, length - done), offset + done);
    if (n === 0) throw errnoError('EIO', 'short write');
    done += n;
  }
}

export default function run(task: BlockingTask): BlockingResult {
  try {
    switch (task.op) {
      case 'fdatasync': fdatasyncSync(task.fd); break;
      case 'fsync': fsyncSync(task.fd); break;
      case 'fill': fill(task.fd, task.offset, task.length, task.pattern); break;
      default: return { ok: false, errno: 'EINVAL', message: `unknown blocking task ${(task as { op: unknown }).op}` };
    }
    return { ok: true };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, errno: err.code ?? 'EIO', message: err.message };
  }
}
