import { Backstore } from '../types';
import { SyncIo, sharedZeros } from './sync-io';

/**
 * nullio: reads return zeros, writes are dropped. For measuring the engine and transports without
 * storage. Any size up to 2^64 blocks is accepted; offsets past 2^53 lose precision as numbers,
 * which does not matter because no byte is ever stored at any offset.
 */
export interface NullBackstoreOptions {
  sizeBytes: bigint;
  writeBack?: boolean;
  readOnly?: boolean;
  thin?: boolean;
}

export class NullBackstore implements Backstore, SyncIo {
  readonly kind = 'null' as const;
  readonly readOnly: boolean;
  readonly thin: boolean;
  writeBack: boolean;
  private size: bigint;

  constructor(o: NullBackstoreOptions) {
    this.size = o.sizeBytes;
    this.readOnly = o.readOnly ?? false;
    this.thin = o.thin ?? false;
    this.writeBack = o.writeBack ?? true;
  }

  get sizeBytes(): bigint { return this.size; }

  async read(_offset: number, into: Uint8Array): Promise<void> { into.fill(0); }

  /** Every read is zeros: one shared zero buffer serves them all, no allocation, no fill. */
  lendNow(_offset: number, length: number): Uint8Array | undefined { return sharedZeros(length); }
  readNow(_offset: number, into: Uint8Array): boolean { into.fill(0); return true; }
  /** Writes are dropped at once, as write() drops them. */
  writeNow(_offset: number, _data: Uint8Array, _fua: boolean): boolean { return true; }
  async write(_offset: number, _data: Uint8Array, _fua: boolean): Promise<void> {}
  async flush(): Promise<void> {}
  async unmap(_offset: number, _length: number): Promise<void> {}

  /** Nothing is ever stored: a thin null store is all deallocated, a thick one all mapped. */
  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    const rest = this.size - BigInt(Math.max(0, offset));
    const length = rest <= 0n ? 0 : rest > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rest);
    return { mapped: !this.thin, length };
  }

  async resize(sizeBytes: bigint): Promise<void> { this.size = sizeBytes; }
  async close(): Promise<void> {}
}
