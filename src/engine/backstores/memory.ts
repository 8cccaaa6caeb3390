import { NexusError } from '../result';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { SyncIo } from './sync-io';

/**
 * RAM disk backstore. Storage is a sparse map of 1 MiB chunks allocated on first write, so a
 * 1 GiB LU costs nothing until written; UNMAP frees whole chunks (and zeroes partial ones), and
 * GET LBA STATUS reports chunk presence. Always thin-capable: an absent chunk reads as zeros.
 */
export const MEMORY_CHUNK_BYTES = 1 << 20;

export interface MemoryBackstoreOptions {
  sizeBytes: bigint;
  writeBack?: boolean;
  readOnly?: boolean;
  thin?: boolean;
}

export class MemoryBackstore implements Backstore, SyncIo {
  readonly kind = 'memory' as const;
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  private size: bigint;
  private readonly chunks = new Map<number, Buffer>();

  constructor(o: MemoryBackstoreOptions) {
    if (o.sizeBytes < 0n || o.sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new NexusError('ERR_BACKSTORE_SIZE', `memory backstore size ${o.sizeBytes} out of range`);
    }
    this.size = o.sizeBytes;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? true;
    this.writeBack = o.writeBack ?? true;
  }

  get sizeBytes(): bigint { return this.size; }

  /** Chunks currently allocated (tests, statistics). */
  get allocatedChunks(): number { return this.chunks.size; }

  private checkRange(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || BigInt(offset + length) > this.size) {
      throw errnoError('EINVAL', `range ${offset}+${length} outside ${this.size}`);
    }
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkRange(offset, into.length);
    this.copyOut(offset, into);
  }

  /** RAM never blocks: every in-range read completes here. */
  readNow(offset: number, into: Uint8Array): boolean {
    if (!this.inRange(offset, into.length)) return false;
    this.copyOut(offset, into);
    return true;
  }

  writeNow(offset: number, data: Uint8Array, _fua: boolean): boolean {
    if (this.readOnly || !this.inRange(offset, data.length)) return false;
    this.copyIn(offset, data);
    return true;
  }

  private inRange(offset: number, length: number): boolean {
    return Number.isSafeInteger(offset) && offset >= 0 && offset + length <= Number(this.size);
  }

  private copyOut(offset: number, into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / MEMORY_CHUNK_BYTES);
      const within = pos - idx * MEMORY_CHUNK_BYTES;
      const n = Math.min(MEMORY_CHUNK_BYTES - within, into.length - done);
      const c = this.chunks.get(idx);
      if (c) into.set(c.subarray(within, within + n), done);
      else into.fill(0, done, done + n);
      done += n;
    }
  }

  async write(offset: number, data: Uint8Array, _fua: boolean): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', 'memory backstore is read-only');
    this.checkRange(offset, data.length);
    this.copyIn(offset, data);
  }

  private copyIn(offset: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / MEMORY_CHUNK_BYTES);
      const within = pos - idx * MEMORY_CHUNK_BYTES;
      const n = Math.min(MEMORY_CHUNK_BYTES - within, data.length - done);
      let c = this.chunks.get(idx);
      if (!c) this.chunks.set(idx, (c = Buffer.alloc(MEMORY_CHUNK_BYTES)));
      c.set(data.subarray(done, done + n), within);
      done += n;
    }
  }

  // RAM is its own stable storage for this store's lifetime: nothing to flush.
  async flush(): Promise<void> {}

  async unmap(offset: number, length: number): Promise<void> {
    if (this.readOnly) throw errnoError('EROFS', 'memory backstore is read-only');
    this.checkRange(offset, length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const idx = Math.floor(pos / MEMORY_CHUNK_BYTES);
      const within = pos - idx * MEMORY_CHUNK_BYTES;
      const n = Math.min(MEMORY_CHUNK_BYTES - within, length - done);
      if (within === 0 && n === MEMORY_CHUNK_BYTES) this.chunks.delete(idx);
      else this.chunks.get(idx)?.fill(0, within, within + n);
      done += n;
    }
  }

  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    this.checkRange(offset, 0);
    const end = Number(this.size);
    if (offset >= end) return { mapped: false, length: 0 };
    let idx = Math.floor(offset / MEMORY_CHUNK_BYTES);
    const mapped = this.chunks.has(idx);
    let pos = (idx + 1) * MEMORY_CHUNK_BYTES;
    while (pos < end && this.chunks.has(++idx) === mapped) pos += MEMORY_CHUNK_BYTES;
    return { mapped, length: Math.min(pos, end) - offset };
  }

  async resize(sizeBytes: bigint): Promise<void> {
    if (sizeBytes < 0n || sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) throw errnoError('EINVAL', 'size out of range');
    const end = Number(sizeBytes);
    if (sizeBytes < this.size) {
      for (const idx of [...this.chunks.keys()]) {
        const base = idx * MEMORY_CHUNK_BYTES;
        if (base >= end) this.chunks.delete(idx);
        else if (base + MEMORY_CHUNK_BYTES > end) this.chunks.get(idx)?.fill(0, end - base);
      }
    }
    this.size = sizeBytes;
  }

  async close(): Promise<void> { this.chunks.clear(); }
}
