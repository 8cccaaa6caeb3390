import { constants as fsc } from 'node:fs';
import { FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as native from '../../native';
import { Backstore } from '../types';
import { SyncIo } from './sync-io';
import { errnoError } from './errno-sense';
import { FALLBACK_THIN_OPS, ThinOps, isErrnoValue, nativeThinOps } from './thin-ops';
import { BlockingPool, BlockingTask, acquireBlockingPool, releaseBlockingPool } from './blocking-pool';

/**
 * fileio: a regular file through the page cache (SCST's vdisk_fileio).
 *
 * Write-back (WCE=1): a write resolves once it is in the page cache; flush() is fdatasync.
 * Write-through (WCE=0) and FUA writes are fdatasync'ed before they resolve (SBC-4 4.15).
 * Thin: UNMAP punches holes with fallocate(PUNCH_HOLE) through the native addon; without the
 * addon, see FALLBACK_THIN_OPS (zeros written, everything reported mapped).
 */
export interface FileBackstoreOptions {
  path: string;
  /** Capacity; 0n takes an existing file's size. A missing file is created sparse at this size. */
  sizeBytes: bigint;
  writeBack?: boolean;
  readOnly?: boolean;
  thin?: boolean;
  /** Never create or truncate (block devices). */
  noCreate?: boolean;
  kind?: 'file' | 'block';
  /** Override the hole operations (tests force the fallback with FALLBACK_THIN_OPS). */
  thinOps?: ThinOps;
}

/** Largest run of zeros the fallback writes per call. */
const ZERO_CHUNK = 1 << 20;

/** preadv2(RWF_NOWAIT): EAGAIN instead of waiting for the disk. */
const NOWAIT = Object.freeze({ nowait: true });

export class FileBackstore implements Backstore, SyncIo {
  readonly kind: 'file' | 'block';
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  private size: bigint;
  /** Acquired on the first sync, released on close. */
  private pool: BlockingPool | undefined;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    size: bigint,
    o: FileBackstoreOptions,
    readonly thinOps: ThinOps,
  ) {
    this.kind = o.kind ?? 'file';
    this.size = size;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? false;
    this.writeBack = o.writeBack ?? true;
  }

  static async open(o: FileBackstoreOptions): Promise<FileBackstore> {
    const ro = o.readOnly ?? false;
    let fh: FileHandle;
    if (ro || o.noCreate) {
      fh = await open(o.path, ro ? 'r' : 'r+');
    } else {
      await mkdir(dirname(o.path), { recursive: true });
      // O_CREAT without O_TRUNC: an existing file keeps its contents.
      fh = await open(o.path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
    }
    try {
      const st = await fh.stat({ bigint: true });
      let size = o.sizeBytes;
      if (size === 0n) size = st.size;
      // A new (or shorter) file grows sparse to the configured capacity: no blocks are allocated.
      if (!ro && !o.noCreate && st.isFile() && st.size < size) await fh.truncate(Number(size));
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EFBIG', `${o.path}: size beyond 2^53`);
      return new FileBackstore(fh, o.path, size, o, o.thinOps ?? nativeThinOps() ?? FALLBACK_THIN_OPS);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  get sizeBytes(): bigint { return this.size; }
  get fd(): number { return this.fh.fd; }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || BigInt(offset + length) > this.size) {
      throw errnoError('EINVAL', `range ${offset}+${length} outside ${this.size}`);
    }
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkRange(offset, into.length);
    let done = 0;
    // Bounded: every pass either advances or ends at EOF.
    while (done < into.length) {
      const { bytesRead } = await this.fh.read(into, done, into.length - done, offset + done);
      if (bytesRead === 0) { into.fill(0, done); break; } // past EOF of a shrunk file reads as zeros
      done += bytesRead;
    }
  }

  /**
   * DESIGN.md §10: a page-cache hit read synchronously beats every async API. preadv2 with
   * RWF_NOWAIT answers EAGAIN instead of waiting for the disk; then (or on a short read, or any
   * error) the caller takes read(), which waits and reports. Without the native addon there is
   * no RWF_NOWAIT, and a blocking read on the event loop is not an option.
   */
  readNow(offset: number, into: Uint8Array): boolean {
    if (!native.available || !Number.isSafeInteger(offset) || offset < 0 || offset + into.length > Number(this.size)) return false;
    const n = native.preadSync(this.fh.fd, into, offset, into.length, NOWAIT);
    return n === into.length;
  }

  /**
   * Write-back writes land in the page cache: a synchronous pwrite on the actor thread costs a few
   * microseconds, far less than a thread-pool round trip (DESIGN.md §10). When the kernel throttles
   * dirty pages the thread waits, which back-pressures the initiator as a C target's I/O threads
   * would. FUA and write-through writes need a sync to stable storage and keep the async path,
   * as does anything the addon cannot do (its errors are reported by write()).
   */
  writeNow(offset: number, data: Uint8Array, fua: boolean): boolean {
    if (fua || !this.writeBack || this.readOnly || !native.available) return false;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > Number(this.size)) return false;
    return native.pwriteSync(this.fh.fd, data, offset, data.length) === data.length;
  }

  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    this.checkRange(offset, data.length);
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, offset + done);
      if (bytesWritten === 0) throw errnoError('EIO', 'short write');
      done += bytesWritten;
    }
    // SBC-4 5.41 FUA: the data is on the medium before status; write-through always behaves so.
    if (fua || !this.writeBack) await this.sync();
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.sync();
  }

  async unmap(offset: number, length: number): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    this.checkRange(offset, length);
    if (length === 0) return;
    if (this.thinOps.native) {
      const r = this.thinOps.punchHole(this.fh.fd, offset, length);
      if (isErrnoValue(r)) {
        // File systems without hole support answer EOPNOTSUPP: fall through to zeros.
        if (r.errno !== 'EOPNOTSUPP') throw errnoError(r.errno, r.message ?? 'punch hole failed');
      } else {
        if (!this.writeBack) await this.sync();
        return;
      }
    }
    // FALLBACK: no hole punching available; zeros keep "reads return zeros after unmap" true.
    const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, length));
    for (let done = 0; done < length;) {
      const n = Math.min(zeros.length, length - done);
      await this.write(offset + done, zeros.subarray(0, n), false);
      done += n;
    }
    if (!this.writeBack) await this.sync();
  }

  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    this.checkRange(offset, 0);
    const end = Number(this.size);
    if (offset >= end) return { mapped: false, length: 0 };
    const fd = this.fh.fd;
    const data = this.thinOps.seekData(fd, offset);
    if (isErrnoValue(data)) throw errnoError(data.errno, data.message ?? 'SEEK_DATA failed');
    if (data === null || data >= end) return { mapped: false, length: end - offset }; // hole to the end
    if (data > offset) return { mapped: false, length: data - offset };
    const hole = this.thinOps.seekHole(fd, offset);
    if (isErrnoValue(hole)) throw errnoError(hole.errno, hole.message ?? 'SEEK_HOLE failed');
    const stop = hole === null ? end : Math.min(hole, end);
    return { mapped: true, length: Math.max(stop - offset, 1) };
  }

  async resize(sizeBytes: bigint): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    if (sizeBytes < 0n || sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EINVAL', 'size out of range');
    if (this.kind === 'file') await this.fh.truncate(Number(sizeBytes));
    this.size = sizeBytes;
  }

  /** SANITIZE OVERWRITE of a range: one blocking task (blocking-tasks.ts), then the caller's flush. */
  async fill(offset: number, length: number, pattern: Uint8Array): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    this.checkRange(offset, length);
    await this.blocking({ op: 'fill', fd: this.fh.fd, offset, length, pattern });
  }

  /**
   * fdatasync in the blocking pool (blocking-pool.ts), not in libuv's four shared threads: a
   * burst of syncs to a slow disk must not stall every other file read of the process.
   */
  private sync(): Promise<void> {
    return this.blocking({ op: 'fdatasync', fd: this.fh.fd });
  }

  /** One task in this thread's blocking pool; its errno value becomes the store's errno error. */
  private async blocking(task: BlockingTask): Promise<void> {
    this.pool ??= acquireBlockingPool();
    const r = await this.pool.run(task);
    if (!r.ok) throw errnoError(r.errno, r.message);
  }

  async close(): Promise<void> {
    if (this.pool) {
      this.pool = undefined;
      await releaseBlockingPool();
    }
    await this.fh.close();
  }
}
