import { senseFromErrno, IoDirection } from './backstores/errno-sense';
import * as D from './cdb/defs/sbc';
import { GOOD, NexusError, Outcome, good, goodLeased } from './result';
import { invalidFieldOf } from './cdb/dsl';
import { Lease, readBuffers } from './read-buffers';
import {
  IO_CHUNK_BYTES, byteOffset, checkLbaRange, firstDifference, miscompare, withRangeLock,
} from './sbc-io';
import { Binding, Exec, ExecContext, LuView, bind } from './types';
import { rangeLockFor } from './range-lock';
import { syncIoOf } from './backstores/sync-io';
import { BLOCK_LIMITS, maxCompareAndWriteBlocks } from './vpd';

/**
 * SBC-4 data commands: READ and WRITE (6/10/12/16), WRITE AND VERIFY, VERIFY, COMPARE AND WRITE
 * and ORWRITE. Each takes a range lock for its I/O (shared to read, exclusive to change the
 * medium), so read-compare-write and read-OR-write are atomic against every other command that
 * touches the same blocks. DPO is a cache-retention hint and is ignored.
 */

interface RwFields { lba: number | bigint; blocks: number; fua?: boolean }
interface VerifyFields { lba: number | bigint; blocks: number; bytchk: number }

/**
 * The pipeline hands over exactly xferBytes of Data-Out, or fewer for rows that accept a truncated
 * transfer (FCP-4 9.4.2 a); anything else is an engine bug.
 */
function dataOutOf(ctx: ExecContext<unknown>, bytes: number): Uint8Array {
  const d = ctx.dataOut ?? new Uint8Array(0);
  const ok = d.length === bytes || (d.length < bytes && ctx.def.truncatableDataOut === true);
  if (!ok) throw new NexusError('ERR_DATA_OUT', `${ctx.def.name}: Data-Out ${d.length} bytes, expected ${bytes}`);
  return d;
}

/**
 * FCP-4 9.4.2 a): a write that received fewer bytes than its blocks hold changes exactly the bytes
 * sent; the rest of the blocks keep their contents. Called with the exclusive range lock held, so
 * no other command can change the blocks between this read and the write.
 */
async function wholeBlocks(lu: LuView, off: number, data: Uint8Array, len: number): Promise<Uint8Array> {
  if (data.length === len) return data;
  const full = Buffer.allocUnsafe(len);
  await lu.backstore.read(off, full);
  full.set(data, 0);
  return full;
}

/** Run the I/O of a command; a backstore rejection becomes sense for the phase that failed. */
async function io(fn: (phase: (p: IoDirection) => void) => Promise<Outcome>): Promise<Outcome> {
  let dir: IoDirection = 'read';
  try {
    return await fn(p => { dir = p; });
  } catch (e) {
    if (e instanceof NexusError) throw e;
    return senseFromErrno(e, dir);
  }
}

/**
 * Range and length checks shared by every data command; `undefined` means go ahead. A length
 * refused is reported at the row's `blocks` field (TRANSFER LENGTH, VERIFICATION LENGTH).
 */
function checkTransfer(ctx: ExecContext<unknown>, lba: number | bigint, blocks: number, boundByMaxTransfer = true): Outcome | undefined {
  const lu = ctx.lu;
  const oob = checkLbaRange(lu, lba, blocks);
  if (oob) return oob;
  // SBC-4 READ/WRITE: a TRANSFER LENGTH above the block limits page's MAXIMUM TRANSFER LENGTH is
  // INVALID FIELD IN CDB.
  if (boundByMaxTransfer && blocks * lu.blockSize > BLOCK_LIMITS.maxTransferBytes) return invalidFieldOf(ctx.def, 'blocks');
  return undefined;
}

// --- READ ------------------------------------------------------------------------------------

/**
 * READ(6/10/12/16). A TRANSFER LENGTH of 0 transfers nothing and is not an error (READ(6)'s 0
 * means 256 blocks, which its row's field already says). FUA on a read asks for the medium's data: the page
 * cache is coherent with the file, so every read already returns it.
 */
export const execRead: Exec<RwFields> = ctx => {
  const { lu } = ctx;
  // A number while below 2^53 (lba64): the synchronous path below makes no BigInt.
  const lba = ctx.f.lba;
  const n = ctx.f.blocks;
  const bad = checkTransfer(ctx, lba, n);
  if (bad) return bad;
  if (n === 0) return GOOD;
  const len = n * lu.blockSize;
  const off = byteOffset(lu, lba);
  // Synchronous completion when the store can answer now and no conflicting lock is queued.
  const sync = syncIoOf(lu.backstore);
  if (sync && !rangeLockFor(lu.backstore).wouldBlock(lba, n, false)) {
    const lent = sync.lendNow?.(off, len);
    if (lent) return good(lent);
    // Not zero-filled: the store overwrites every byte, or the async path below does.
    const now = readBuffers.lease(len);
    if (sync.readNow(off, now.data)) return goodLeased(now.data, now.release);
    return readLocked(lu, lba, n, off, now);
  }
  return readLocked(lu, lba, n, off, readBuffers.lease(len));
};

/** On failure the lease is dropped, not given back: the buffer is simply collected. */
function readLocked(lu: LuView, lba: number | bigint, n: number, off: number, buf: Lease): Promise<Outcome> {
  return io(async () => {
    await withRangeLock(lu, BigInt(lba), BigInt(n), false, () => lu.backstore.read(off, buf.data));
    return goodLeased(buf.data, buf.release);
  });
}

// --- WRITE -----------------------------------------------------------------------------------

/** WRITE(6/10/12/16). FUA (SBC-4 WRITE): the data is on stable storage before GOOD. */
export const execWrite: Exec<RwFields> = ctx => {
  const { lu } = ctx;
  const lba = ctx.f.lba;
  const n = ctx.f.blocks;
  const bad = checkTransfer(ctx, lba, n);
  if (bad) return bad;
  if (n === 0) return GOOD;
  const data = dataOutOf(ctx, n * lu.blockSize);
  const fua = ctx.f.fua ?? false;
  const sync = syncIoOf(lu.backstore);
  // Synchronous completion when the store can take it now (write-through and FUA included:
  // the store says no when it would have to wait) and no overlapping lock is queued.
  const len = n * lu.blockSize;
  if (data.length === len && sync && !rangeLockFor(lu.backstore).wouldBlock(lba, n, true)
    && sync.writeNow(byteOffset(lu, lba), data, fua)) return GOOD;
  const off = byteOffset(lu, lba);
  return io(phase => withRangeLock(lu, BigInt(lba), BigInt(n), true, async () => {
    const whole = await wholeBlocks(lu, off, data, len);
    phase('write');
    await lu.backstore.write(off, whole, fua);
    return GOOD;
  }));
};

// --- WRITE AND VERIFY --------------------------------------------------------------------------

/**
 * WRITE AND VERIFY(10/12/16): write with FUA (the verify must read the medium, not a cache), then
 * read back; BYTCHK 01b also compares what was read with the Data-Out (MISCOMPARE with the offset
 * of the first differing byte). BYTCHK 10b is reserved and 11b is not offered: INVALID FIELD.
 */
export const execWriteAndVerify: Exec<VerifyFields> = ctx => {
  const { lu } = ctx;
  const { bytchk } = ctx.f;
  if (bytchk !== 0b00 && bytchk !== 0b01) return invalidFieldOf(ctx.def, 'bytchk');
  const lba = BigInt(ctx.f.lba);
  const n = ctx.f.blocks;
  const bad = checkTransfer(ctx, lba, n);
  if (bad) return bad;
  if (n === 0) return GOOD;
  const sent = dataOutOf(ctx, n * lu.blockSize);
  const off = byteOffset(lu, lba);
  return io(phase => withRangeLock(lu, lba, BigInt(n), true, async () => {
    const data = await wholeBlocks(lu, off, sent, n * lu.blockSize);
    phase('write');
    await lu.backstore.write(off, data, true);
    phase('read');
    const back = Buffer.allocUnsafe(data.length);
    await lu.backstore.read(off, back);
    if (bytchk === 0b01) {
      const at = firstDifference(data, back);
      if (at >= 0) return miscompare(at);
    }
    return GOOD;
  }));
};

// --- VERIFY ----------------------------------------------------------------------------------

/**
 * VERIFY(10/12/16) by BYTCHK: 00b medium verification (every block is read; an unreadable one is
 * a MEDIUM ERROR), 01b compare the Data-Out with the medium, 11b compare the one Data-Out block
 * with every block in the range, 10b reserved → INVALID FIELD IN CDB. A miscompare reports in
 * INFORMATION the byte offset of the first difference from the start of the verified range
 * (for 11b: as if the one block had been sent once per LBA).
 */
export const execVerify: Exec<VerifyFields> = ctx => {
  const { lu } = ctx;
  const { bytchk } = ctx.f;
  if (bytchk === 0b10) return invalidFieldOf(ctx.def, 'bytchk');
  const lba = BigInt(ctx.f.lba);
  const n = ctx.f.blocks;
  // Only BYTCHK 01b moves VERIFICATION LENGTH blocks of Data-Out; the others are bounded by
  // the medium, not by a buffer.
  const bad = checkTransfer(ctx, lba, n, bytchk === 0b01);
  if (bad) return bad;
  // SBC-4 VERIFY: a VERIFICATION LENGTH of zero verifies nothing and is not an error.
  if (n === 0) return GOOD;
  const bs = lu.blockSize;
  const off = byteOffset(lu, lba);
  const total = n * bs;
  const expected = bytchk === 0b00 ? undefined : dataOutOf(ctx, bytchk === 0b01 ? total : bs);
  return io(() => withRangeLock(lu, lba, BigInt(n), false, async () => {
    const chunk = Buffer.allocUnsafe(Math.min(total, Math.max(bs, IO_CHUNK_BYTES - (IO_CHUNK_BYTES % bs))));
    for (let done = 0; done < total;) {
      const len = Math.min(chunk.length, total - done);
      const got = chunk.subarray(0, len);
      await lu.backstore.read(off + done, got);
      if (expected && bytchk === 0b01) {
        const at = firstDifference(expected.subarray(done, done + len), got);
        if (at >= 0) return miscompare(done + at);
      } else if (expected) {
        for (let b = 0; b < len; b += bs) {
          const at = firstDifference(expected, got.subarray(b, b + bs));
          if (at >= 0) return miscompare(done + b + at);
        }
      }
      done += len;
    }
    return GOOD;
  }));
};

// --- COMPARE AND WRITE -----------------------------------------------------------------------

/**
 * COMPARE AND WRITE (SBC-4): under an exclusive range lock, read NUMBER OF LOGICAL BLOCKS,
 * compare them with the first half of the Data-Out and, only if equal, write the second half.
 * A miscompare is MISCOMPARE DURING VERIFY OPERATION with INFORMATION = the offset of the first
 * differing byte; nothing is written. NUMBER OF LOGICAL BLOCKS 0 is not an error and touches
 * nothing; above MAXIMUM COMPARE AND WRITE LENGTH it is INVALID FIELD IN CDB (byte 13).
 */
export const execCompareAndWrite: Exec<RwFields> = ctx => {
  const { lu } = ctx;
  const lba = BigInt(ctx.f.lba);
  const n = ctx.f.blocks;
  if (n > maxCompareAndWriteBlocks(lu)) return invalidFieldOf(ctx.def, 'blocks');
  const oob = checkLbaRange(lu, lba, BigInt(n));
  if (oob) return oob;
  if (n === 0) return GOOD;
  const len = n * lu.blockSize;
  const data = dataOutOf(ctx, 2 * len);
  const verify = data.subarray(0, len);
  const write = data.subarray(len);
  const off = byteOffset(lu, lba);
  const fua = ctx.f.fua ?? false;
  const store = lu.backstore;
  return io(phase => withRangeLock(lu, lba, BigInt(n), true, async () => {
    // A store shared with other writers compares and writes itself (atomic against them too).
    if (store.compareAndWrite) {
      phase('write');
      const differs = await store.compareAndWrite(off, verify, write, fua);
      return differs >= 0 ? miscompare(differs) : GOOD;
    }
    const current = Buffer.allocUnsafe(len);
    await lu.backstore.read(off, current);
    const at = firstDifference(verify, current);
    if (at >= 0) return miscompare(at);
    phase('write');
    await lu.backstore.write(off, write, fua);
    return GOOD;
  }));
};

// --- ORWRITE ---------------------------------------------------------------------------------

/** ORWRITE(16) (SBC-4): medium := medium OR Data-Out, read and written under one exclusive lock. */
export const execOrWrite: Exec<RwFields> = ctx => {
  const { lu } = ctx;
  const lba = BigInt(ctx.f.lba);
  const n = ctx.f.blocks;
  const bad = checkTransfer(ctx, lba, n);
  if (bad) return bad;
  if (n === 0) return GOOD;
  const data = dataOutOf(ctx, n * lu.blockSize);
  const off = byteOffset(lu, lba);
  const fua = ctx.f.fua ?? false;
  return io(phase => withRangeLock(lu, lba, BigInt(n), true, async () => {
    const cur = Buffer.allocUnsafe(data.length);
    await lu.backstore.read(off, cur);
    for (let i = 0; i < cur.length; i++) cur[i] |= data[i];
    phase('write');
    await lu.backstore.write(off, cur, fua);
    return GOOD;
  }));
};

/** Where each command keeps its LBA, length and flags is stated by its row (cdb/defs/sbc.ts) only. */
export const rwBindings: Binding[] = [
  bind(D.READ_6, execRead),
  bind(D.READ_10, execRead),
  bind(D.READ_12, execRead),
  bind(D.READ_16, execRead),
  bind(D.WRITE_6, execWrite),
  bind(D.WRITE_10, execWrite),
  bind(D.WRITE_12, execWrite),
  bind(D.WRITE_16, execWrite),
  bind(D.WRITE_AND_VERIFY_10, execWriteAndVerify),
  bind(D.WRITE_AND_VERIFY_12, execWriteAndVerify),
  bind(D.WRITE_AND_VERIFY_16, execWriteAndVerify),
  bind(D.VERIFY_10, execVerify),
  bind(D.VERIFY_12, execVerify),
  bind(D.VERIFY_16, execVerify),
  bind(D.COMPARE_AND_WRITE, execCompareAndWrite),
  bind(D.ORWRITE_16, execOrWrite),
];
