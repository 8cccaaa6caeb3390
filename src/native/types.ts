/** Types shared by the native addon's wrapper (index.ts) and its JS fallbacks. */

/** A system call's failure as a value: errno name as in Node's err.code. */
export interface NativeError {
  errno: string;
  message: string;
}

export type IoOp = 'read' | 'write' | 'fsync' | 'fdatasync';

export interface IoRequest {
  op: IoOp;
  fd: number;
  /** Required for read/write; may be a view on a SharedArrayBuffer. */
  buf?: NodeJS.ArrayBufferView;
  /** Byte offset in the file (default 0). */
  offset?: number | bigint;
  /** Bytes to transfer (default buf.byteLength); more than buf holds → EINVAL. */
  length?: number;
}

/** res: bytes transferred (0 for fsync) or -errno, with errno's name. */
export interface IoResult {
  res: number;
  errno?: string;
}

export interface IoQueueOptions {
  /** Requests in flight at once (io_uring SQ size); default 64, 1..4096. */
  depth?: number;
  /** 'auto' (default): io_uring if the kernel allows it, else threads. */
  backend?: 'auto' | 'io_uring' | 'threads';
  /** Threads of the fallback pool; default 2. */
  threads?: number;
}

export interface IoQueue {
  /** 'js' when the addon is not built (fs.read / fs.write on libuv's pool). */
  readonly backend: 'io_uring' | 'threads' | 'js';
  readonly depth: number;
  readonly inFlight: number;
  /**
   * One call is one batched submission. cb runs once, asynchronously, with
   * results[i] for requests[i]. Wrong JS types throw TypeError; wrong values
   * complete as { res: -22, errno: 'EINVAL' } (or EBADF for a bad fd number).
   */
  submit(requests: readonly IoRequest[], cb: (results: IoResult[]) => void): void;
  /** No more submissions; resources go once in-flight work has called back. */
  close(): void;
}

export interface OpenBlockOptions {
  /** O_DIRECT: buffers, offsets and lengths must be aligned to the logical block size. */
  direct?: boolean;
  readOnly?: boolean;
}

export interface BlockInfo {
  size: number;
  logicalBlockSize: number;
  physicalBlockSize: number;
  isBlockDevice: boolean;
}

export type SgioDirection = 'none' | 'in' | 'out';

export interface SgioRequest {
  cdb: Uint8Array;
  dir: SgioDirection;
  /** Data-In buffer ('in') or Data-Out bytes ('out'); absent for 'none'. */
  data?: Uint8Array;
  /** Default 30000. */
  timeoutMs?: number;
  /** Sense bytes to accept, 0..255, default 32. */
  senseMax?: number;
}

export interface SgioResult {
  /** SCSI status byte (SAM-5 5.3.1). */
  status: number;
  hostStatus: number;
  driverStatus: number;
  sense: Buffer;
  residual: number;
  durationMs: number;
}
