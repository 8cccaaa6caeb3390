/**
 * The I/O queue without the native addon: the same interface as the native
 * createIoQueue, carried out with fs.read / fs.write / fs.fsync on libuv's
 * thread pool. Used only when build/Release/nexus_native.node is missing.
 */
import * as fs from 'node:fs';
import type { IoQueue, IoQueueOptions, IoRequest, IoResult } from './types';

const EINVAL = 22;
const EBADF = 9;
const MAX_IO_LENGTH = 0x7ffff000;

function typeError(message: string): TypeError {
  const e = new TypeError(message) as TypeError & { code: string };
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

function isNonNegInt(v: number | bigint): boolean {
  return typeof v === 'bigint' ? v >= 0n && v <= 0x7fffffffffffffffn : Number.isSafeInteger(v) && v >= 0;
}

type Planned =
  | { kind: 'done'; res: IoResult }
  | { kind: 'rw'; write: boolean; fd: number; buf: NodeJS.ArrayBufferView; offset: number; length: number }
  | { kind: 'sync'; data: boolean; fd: number };

function plan(r: IoRequest): Planned {
  if (r === null || typeof r !== 'object') throw typeError('submit: every request must be an object');
  const { op } = r;
  if (op !== 'read' && op !== 'write' && op !== 'fsync' && op !== 'fdatasync') {
    throw typeError("submit: request.op must be 'read', 'write', 'fsync' or 'fdatasync'");
  }
  if (typeof r.fd !== 'number') throw typeError('submit: request.fd must be a number');
  const badFd = !(Number.isInteger(r.fd) && r.fd >= 0 && r.fd <= 0x7fffffff);
  if (op === 'fsync' || op === 'fdatasync') {
    if (badFd) return { kind: 'done', res: { res: -EBADF, errno: 'EBADF' } };
    return { kind: 'sync', data: op === 'fdatasync', fd: r.fd };
  }
  if (!ArrayBuffer.isView(r.buf)) throw typeError('submit: request.buf must be an ArrayBufferView');
  const offset = r.offset ?? 0;
  if (typeof offset !== 'number' && typeof offset !== 'bigint') throw typeError('submit: request.offset must be a number or bigint');
  const length = r.length ?? r.buf.byteLength;
  if (typeof length !== 'number' && typeof length !== 'bigint') throw typeError('submit: request.length must be a number or bigint');
  if (badFd) return { kind: 'done', res: { res: -EBADF, errno: 'EBADF' } };
  // fs.write treats a non-number position as "current position": offsets are
  // normalised to safe-integer numbers (8 PiB) before they reach fs.
  if (
    !isNonNegInt(offset) ||
    Number(offset) > Number.MAX_SAFE_INTEGER ||
    !isNonNegInt(length) ||
    Number(length) > r.buf.byteLength ||
    Number(length) > MAX_IO_LENGTH
  ) {
    return { kind: 'done', res: { res: -EINVAL, errno: 'EINVAL' } };
  }
  return { kind: 'rw', write: op === 'write', fd: r.fd, buf: r.buf, offset: Number(offset), length: Number(length) };
}

function fromError(err: NodeJS.ErrnoException): IoResult {
  return { res: typeof err.errno === 'number' ? err.errno : -EINVAL, errno: err.code ?? 'EIO' };
}

export function createJsIoQueue(options: IoQueueOptions = {}): IoQueue {
  const depth = options.depth ?? 64;
  if (typeof depth !== 'number') throw typeError('createIoQueue: depth must be a number');
  if (!Number.isInteger(depth) || depth < 1 || depth > 4096) {
    const e = new RangeError('createIoQueue: depth must be an integer in 1..4096') as RangeError & { code: string };
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
  let inFlight = 0;
  let closed = false;
  return {
    backend: 'js',
    depth,
    get inFlight() {
      return inFlight;
    },
    submit(requests: readonly IoRequest[], cb: (results: IoResult[]) => void): void {
      if (!Array.isArray(requests)) throw typeError('submit: requests must be an array');
      if (typeof cb !== 'function') throw typeError('submit: cb must be a function');
      if (closed) {
        const e = new Error('submit: queue is closed') as Error & { code: string };
        e.code = 'ERR_QUEUE_CLOSED';
        throw e;
      }
      const plans = requests.map(plan);
      const results: IoResult[] = new Array(plans.length);
      let remaining = plans.length;
      const finish = (i: number, res: IoResult): void => {
        results[i] = res;
        if (--remaining === 0) cb(results);
      };
      if (remaining === 0) {
        setImmediate(() => cb(results));
        return;
      }
      plans.forEach((p, i) => {
        if (p.kind === 'done') {
          setImmediate(() => finish(i, p.res));
          return;
        }
        inFlight++;
        const done = (err: NodeJS.ErrnoException | null, n?: number): void => {
          inFlight--;
          finish(i, err ? fromError(err) : { res: n ?? 0 });
        };
        if (p.kind === 'sync') {
          (p.data ? fs.fdatasync : fs.fsync)(p.fd, err => done(err, 0));
        } else if (p.write) {
          fs.write(p.fd, p.buf, 0, p.length, p.offset, (err, n) => done(err, n));
        } else {
          fs.read(p.fd, p.buf, 0, p.length, p.offset, (err, n) => done(err, n));
        }
      });
    },
    close(): void {
      closed = true;
    },
  };
}
