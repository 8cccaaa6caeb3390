import { Outcome, check } from './result';
import { rangeLockFor } from './range-lock';
import { SENSE } from './spec/asc';
import { LuView } from './types';
import { BLOCK_LIMITS } from './vpd';

/**
 * What every SBC handler shares: the limits the block limits VPD page promises, the LBA range
 * check, range locking and byte comparison.
 */

/** The limits in force, in blocks for a given logical block size (VPD B0h reports the same). */
export interface SbcLimits {
  maxWriteSameBlocks: number;
  maxUnmapLbaCount: number;
  maxUnmapDescriptors: number;
  maxTransferBlocks: number;
  optimalUnmapGranularity: number;
  /** WSNZ: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 is refused. */
  writeSameNonZero: boolean;
}

export function sbcLimits(blockSize: number, physicalExponent = 0): SbcLimits {
  return {
    maxWriteSameBlocks: Math.floor(BLOCK_LIMITS.maxWriteSameBytes / blockSize),
    maxUnmapLbaCount: Math.floor(BLOCK_LIMITS.maxUnmapBytes / blockSize),
    maxUnmapDescriptors: BLOCK_LIMITS.maxUnmapDescriptors,
    maxTransferBlocks: Math.floor(BLOCK_LIMITS.maxTransferBytes / blockSize),
    optimalUnmapGranularity: Math.max(1, BLOCK_LIMITS.unmapGranularityBytes / blockSize, 1 << physicalExponent),
    writeSameNonZero: BLOCK_LIMITS.writeSameNonZero,
  };
}

/** Largest piece one backstore call moves for commands whose length is not bounded by a buffer. */
export const IO_CHUNK_BYTES = 1 << 20;

/**
 * SBC-4 4.5: a command that addresses a block past the last LBA is LOGICAL BLOCK ADDRESS OUT OF
 * RANGE, with the LBA in INFORMATION. A length of zero at LBA == capacity accesses nothing and
 * passes. In numbers while the LBA, the end of the range and the capacity are all exact doubles
 * (every device below 2^53 blocks: no BigInt per command), else in bigint, so that LBA
 * 2^64-1 + 1 does not wrap.
 */
export function checkLbaRange(lu: LuView, lba: number | bigint, blocks: number | bigint): Outcome | undefined {
  if (typeof lba === 'number' && typeof blocks === 'number') {
    const end = lba + blocks;
    const capacity = lu.capacityBlocks;
    if (end <= Number.MAX_SAFE_INTEGER && capacity <= Number.MAX_SAFE_INTEGER) {
      return end > capacity ? check(SENSE.LBA_OUT_OF_RANGE, { information: BigInt(lba) }) : undefined;
    }
  }
  const first = BigInt(lba);
  if (first + BigInt(blocks) > lu.blocks) return check(SENSE.LBA_OUT_OF_RANGE, { information: first });
  return undefined;
}

/** Byte offset of `lba` in the backstore (range-checked first, so it is within the store). */
export function byteOffset(lu: LuView, lba: number | bigint): number {
  return Number(lba) * lu.blockSize;
}

/** Run `fn` holding a shared (reads) or exclusive (writes) lock on the LBA range. */
export async function withRangeLock<T>(lu: LuView, lba: bigint, blocks: bigint, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
  const unlock = await rangeLockFor(lu.backstore).acquire(lba, blocks, exclusive);
  try {
    return await fn();
  } finally {
    unlock();
  }
}

/** Offset of the first byte where `a` and `b` differ over `length` bytes, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array, length = Math.min(a.length, b.length)): number {
  const ba = Buffer.from(a.buffer, a.byteOffset, length);
  const bb = Buffer.from(b.buffer, b.byteOffset, length);
  if (ba.equals(bb)) return -1;
  for (let i = 0; i < length; i++) if (ba[i] !== bb[i]) return i;
  return -1;
}

export function isAllZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** MISCOMPARE DURING VERIFY OPERATION with INFORMATION = offset of the first differing byte. */
export function miscompare(offset: number): Outcome {
  return check(SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: BigInt(offset) });
}
