import { Backstore } from '../types';

/**
 * Synchronous completion for the I/O a store can do without blocking (DESIGN.md §10: a page-cache
 * hit read on the actor thread beats every async API; a command that can complete on the thread
 * that received it does). Every method answers "not now" rather than block or fail: the caller
 * then takes the store's ordinary async path, which also reports any error. So a store's result
 * through these methods is always the one its async path would have produced.
 */
export interface SyncIo {
  /**
   * `length` bytes from `offset` without copying, for stores whose bytes never change (null's
   * zeros): a shared view the caller must not write into. Undefined: use readNow or read.
   */
  lendNow?(offset: number, length: number): Uint8Array | undefined;
  /** Fill `into` from `offset` now; false when that would block (or failed): use read(). */
  readNow(offset: number, into: Uint8Array): boolean;
  /** Write `data` at `offset` now (durably when `fua`); false when that would block: use write(). */
  writeNow(offset: number, data: Uint8Array, fua: boolean): boolean;
}

/** The store's synchronous fast path, when it has one. */
export function syncIoOf(b: Backstore): SyncIo | undefined {
  const s = b as Backstore & Partial<SyncIo>;
  return typeof s.readNow === 'function' && typeof s.writeNow === 'function' ? (s as Backstore & SyncIo) : undefined;
}

/** Zeros lent for reads of stores with nothing stored; reads longer than this get their own buffer. */
export const SHARED_ZEROS_BYTES = 1 << 20;
let zeros: Buffer | undefined;
/** The views handed out, by length: a read of a size seen before makes no new view. */
const zeroViews = new Map<number, Uint8Array>();
/** Distinct lengths kept (transfer sizes are few: 4 KiB, 8 KiB, ... in practice). */
const ZERO_VIEWS_KEPT = 64;

/** A view of `length` shared zero bytes (read-only by contract), or undefined past SHARED_ZEROS_BYTES. */
export function sharedZeros(length: number): Uint8Array | undefined {
  if (length > SHARED_ZEROS_BYTES) return undefined;
  const kept = zeroViews.get(length);
  if (kept) return kept;
  zeros ??= Buffer.alloc(SHARED_ZEROS_BYTES);
  const view = zeros.subarray(0, length);
  if (zeroViews.size < ZERO_VIEWS_KEPT) zeroViews.set(length, view);
  return view;
}
