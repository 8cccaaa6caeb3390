import * as native from '../../native';
import type { IoQueue, IoRequest, IoResult } from '../../native';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { isErrnoValue } from './thin-ops';

/**
 * blockio: a block device (or a file) opened with O_DIRECT through the native addon (SCST's
 * vdisk_blockio), I/O submitted in batches on an io_uring queue (thread-pool fallback when the
 * kernel refuses io_uring, libuv's pool when the addon is not built).
 *
 * Buffers: O_DIRECT needs the buffer address, file offset and length aligned to the logical block
 * size. Pool buffers (src/workers/buffer-pool.ts, native aligned slabs) are page-aligned, so I/O
 * goes straight into or out of them; only an unaligned buffer (a plain Node Buffer) bounces
 * through an aligned one. Offsets and lengths come from SCSI LBAs and are whole blocks.
 *
 * Batching (DESIGN.md §10): requests made in the same tick go to the kernel in one submit.
 *
 * Durability: O_DIRECT bypasses the page cache, not the device's write cache. Write-through
 * (WCE=0) and FUA writes are followed by fdatasync (SBC-4 5.41), which flushes that cache.
 */
export interface BlockBackstoreOptions {
  path: string;
  /** Capacity; 0n takes the device's (or file's) size. Never grows or creates the target. */
  sizeBytes: bigint;
  writeBack?: boolean;
  readOnly?: boolean;
  thin?: boolean;
  /** Alignment O_DIRECT needs (default: the device's logical block size, at least 512). */
  alignment?: number;
  /** I/O queue backend (tests force 'threads'). */
  backend?: 'auto' | 'io_uring' | 'threads';
  depth?: number;
}

interface Pending { req: IoRequest; done: (r: IoResult) => void }

/** Largest bounce buffer kept for reuse; bigger ones are allocated per I/O. */
const BOUNCE_KEEP_BYTES = 1 << 20;

export class BlockBackstore implements Backstore {
  readonly kind = 'block' as const;
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  /** Whether O_DIRECT is in effect (false when the file system refused it with EINVAL). */
  readonly direct: boolean;
  /** Bounce copies made for unaligned buffers (diagnostics and tests). */
  bounces = 0;
  private size: bigint;
  private batch: Pending[] = [];
  private flushQueued = false;
  private readonly bounceFree: Uint8Array[] = [];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly queue: IoQueue,
    size: bigint,
    readonly alignment: number,
    direct: boolean,
    o: BlockBackstoreOptions,
  ) {
    this.size = size;
    this.direct = direct;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? false;
    this.writeBack = o.writeBack ?? true;
  }

  static async open(o: BlockBackstoreOptions): Promise<BlockBackstore> {
    const readOnly = o.readOnly ?? false;
    let direct = true;
    let r = native.openBlock(o.path, { direct: true, readOnly });
    // tmpfs and some FUSE file systems refuse O_DIRECT with EINVAL: serve through the page cache.
    if (isErrnoValue(r) && r.errno === 'EINVAL') {
      direct = false;
      r = native.openBlock(o.path, { direct: false, readOnly });
    }
    if (isErrnoValue(r)) throw errnoError(r.errno, `${o.path}: ${r.message}`);
    const fd = r.fd;
    try {
      const info = native.blockInfo(fd);
      if (isErrnoValue(info)) throw errnoError(info.errno, `${o.path}: ${info.message}`);
      const size = o.sizeBytes === 0n ? BigInt(info.size) : o.sizeBytes;
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EFBIG', `${o.path}: size beyond 2^53`);
      const alignment = o.alignment ?? Math.max(512, info.logicalBlockSize);
      const queue = native.createIoQueue({ depth: o.depth ?? 64, backend: o.backend ?? 'auto' });
      return new BlockBackstore(o.path, fd, queue, size, alignment, direct, o);
    } catch (e) {
      native.closeBlock(fd);
      throw e;
    }
  }

  get sizeBytes(): bigint { return this.size; }
  get backend(): IoQueue['backend'] { return this.queue.backend; }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || BigInt(offset + length) > this.size) {
      throw errnoError('EINVAL', `range ${offset}+${length} outside ${this.size}`);
    }
  }

  private aligned(buf: Uint8Array): boolean {
    if (!this.direct) return true;
    if (buf.length % this.alignment !== 0) return false;
    if (!native.available) return false;
    return native.addressOf(buf) % BigInt(this.alignment) === 0n;
  }

  /** An aligned buffer of at least `bytes` (whole alignment units). */
  private takeBounce(bytes: number): Uint8Array {
    const need = Math.ceil(bytes / this.alignment) * this.alignment;
    const i = this.bounceFree.findIndex(b => b.length >= need);
    if (i >= 0) return this.bounceFree.splice(i, 1)[0].subarray(0, need);
    return new Uint8Array(native.allocAlignedShared(Math.max(need, 4096)), 0, need);
  }

  private giveBounce(b: Uint8Array): void {
    if (b.buffer.byteLength <= BOUNCE_KEEP_BYTES && this.bounceFree.length < 8) {
      this.bounceFree.push(new Uint8Array(b.buffer, 0, b.buffer.byteLength));
    }
  }

  /** Queues one request; all requests of this tick go to the kernel in one submit. */
  private io(req: IoRequest): Promise<IoResult> {
    if (this.closed) return Promise.reject(errnoError('EBADF', `${this.path} is closed`));
    return new Promise(done => {
      this.batch.push({ req, done });
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flush_);
      }
    });
  }

  private readonly flush_ = (): void => {
    this.flushQueued = false;
    // The queue takes at most `depth` requests per submit; bigger batches go in slices.
    while (this.batch.length > 0) {
      const part = this.batch.splice(0, this.queue.depth);
      this.queue.submit(part.map(p => p.req), results => {
        for (let i = 0; i < part.length; i++) part[i].done(results[i]);
      });
    }
  };

  private static check(r: IoResult, what: string): number {
    if (r.res < 0) throw errnoError(r.errno ?? 'EIO', `${what} failed`);
    return r.res;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkRange(offset, into.length);
    if (into.length === 0) return;
    const direct = this.aligned(into);
    const buf = direct ? into : this.takeBounce(into.length);
    if (!direct) this.bounces++;
    try {
      let done = 0;
      // Bounded: each pass advances or stops at end of file.
      while (done < into.length) {
        const n = BlockBackstore.check(await this.io({ op: 'read', fd: this.fd, buf: buf.subarray(done), offset: offset + done, length: buf.length - done }), 'read');
        if (n === 0) { buf.fill(0, done, into.length); break; } // past EOF of a short file reads as zeros
        done += n;
      }
      if (!direct) into.set(buf.subarray(0, into.length));
    } finally {
      if (!direct) this.giveBounce(buf);
    }
  }

  async write(offset: number, data: Uint8Array, fua: boolean): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    this.checkRange(offset, data.length);
    if (data.length > 0) {
      const direct = this.aligned(data);
      const buf = direct ? data : this.takeBounce(data.length);
      if (!direct) { this.bounces++; buf.set(data); }
      try {
        let done = 0;
        while (done < data.length) {
          const n = BlockBackstore.check(await this.io({ op: 'write', fd: this.fd, buf: buf.subarray(done), offset: offset + done, length: data.length - done }), 'write');
          if (n === 0) throw errnoError('EIO', 'short write');
          done += n;
        }
      } finally {
        if (!direct) this.giveBounce(buf);
      }
    }
    // SBC-4 5.41 FUA: on the medium before status; write-through always behaves so.
    if (fua || !this.writeBack) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    BlockBackstore.check(await this.io({ op: 'fdatasync', fd: this.fd }), 'fdatasync');
  }

  async unmap(offset: number, length: number): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', `${this.path} is read-only`);
    this.checkRange(offset, length);
    if (length === 0) return;
    const r = native.punchHole(this.fd, offset, length);
    if (r === undefined) return;
    // Block devices and file systems without hole punching: zeros keep reads-return-zeros true.
    if (r.errno !== 'EOPNOTSUPP' && r.errno !== 'ENOSYS' && r.errno !== 'ENODEV') throw errnoError(r.errno, r.message);
    const chunk = Math.min(1 << 20, Math.ceil(length / this.alignment) * this.alignment);
    const zeros = this.takeBounce(chunk).fill(0);
    try {
      for (let done = 0; done < length;) {
        const n = Math.min(zeros.length, length - done);
        await this.write(offset + done, zeros.subarray(0, n), false);
        done += n;
      }
    } finally {
      this.giveBounce(zeros);
    }
  }

  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    this.checkRange(offset, 0);
    const end = Number(this.size);
    if (offset >= end) return { mapped: false, length: 0 };
    if (!this.thin) return { mapped: true, length: end - offset };
    const data = native.seekData(this.fd, offset);
    if (isErrnoValue(data)) return { mapped: true, length: end - offset }; // a device: no hole map
    if (data === null || data >= end) return { mapped: false, length: end - offset };
    if (data > offset) return { mapped: false, length: data - offset };
    const hole = native.seekHole(this.fd, offset);
    const stop = hole === null || isErrnoValue(hole) ? end : Math.min(hole, end);
    return { mapped: true, length: Math.max(stop - offset, 1) };
  }

  /** The device's size is what it is; resizing only changes what is exported (up to it). */
  async resize(sizeBytes: bigint): Promise<void> {
    if (sizeBytes < 0n || sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EINVAL', 'size out of range');
    this.size = sizeBytes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    native.closeBlock(this.fd);
  }
}
