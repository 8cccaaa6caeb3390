import { senseFromErrno } from './backstores/errno-sense';
import * as D from './cdb/defs/sbc';
import { GOOD, NexusError, Outcome, check, good, invalidParamField } from './result';
import { IO_CHUNK_BYTES, byteOffset, checkLbaRange, sbcLimits, withRangeLock } from './sbc-io';
import { SENSE } from './spec/asc';
import { Binding, Exec, bind } from './types';
import { invalidFieldOf } from './cdb/dsl';

/**
 * Logical block provisioning (SBC-4 4.7): WRITE SAME (with UNMAP and NDOB), UNMAP and GET LBA
 * STATUS. A thin LU (backstore.thin) deallocates by punching holes; unmapped blocks read as zeros
 * (LBPRZ = 1); a WRITE SAME with UNMAP deallocates its range, whatever block it carries.
 *
 * UNMAP on a fully provisioned LU: SBC-4 ties UNMAP to LBPU = 1 in the logical block provisioning
 * VPD page; with LBPU = 0 the command is not supported, which a device server reports as
 * INVALID COMMAND OPERATION CODE (what a table without the row would answer). Device types are
 * shared by every unit of a type, so rather than two disk tables the row stays and the handler
 * gives that same answer on a thick LU (diskDeviceType(false) drops the row for RSOC).
 */

interface WriteSameFields { lba: number | bigint; blocks: number; unmap: boolean; ndob?: boolean }

/** WRITE SAME(10/16) (SBC-4); a refused NUMBER OF LOGICAL BLOCKS is reported at the row's field. */
export const execWriteSame: Exec<WriteSameFields> = ctx => {
  const { lu } = ctx;
  const { unmap } = ctx.f;
  const ndob = ctx.f.ndob ?? false;
  const lba = BigInt(ctx.f.lba);
  const limits = sbcLimits(lu.blockSize);
  // UNMAP = 1 needs LBPWS / LBPWS10 (set only on thin LUs): otherwise INVALID FIELD IN CDB.
  if (unmap && !lu.backstore.thin) return invalidFieldOf(ctx.def, 'unmap');
  let n = ctx.f.blocks;
  if (n === 0) {
    // WSNZ = 1: NUMBER OF LOGICAL BLOCKS 0 is refused.
    if (limits.writeSameNonZero) return invalidFieldOf(ctx.def, 'blocks');
    // SBC-4 WRITE SAME: with WSNZ = 0, 0 means from LBA through the last LBA, which must exist.
    if (lba >= lu.blocks) return check(SENSE.LBA_OUT_OF_RANGE, { information: lba });
    const rest = lu.blocks - lba;
    if (rest > BigInt(limits.maxWriteSameBlocks)) return invalidFieldOf(ctx.def, 'blocks');
    n = Number(rest);
  }
  if (n > limits.maxWriteSameBlocks) return invalidFieldOf(ctx.def, 'blocks');
  const oob = checkLbaRange(lu, lba, BigInt(n));
  if (oob) return oob;
  const bs = lu.blockSize;
  let block: Uint8Array;
  if (ndob) {
    block = new Uint8Array(bs); // NDOB: no Data-Out, the block is zeros
  } else {
    block = ctx.dataOut ?? new Uint8Array(0);
    if (block.length !== bs) throw new NexusError('ERR_DATA_OUT', `${ctx.def.name}: Data-Out ${block.length} bytes, expected ${bs}`);
  }
  const off = byteOffset(lu, lba);
  const total = n * bs;
  return withRangeLock(lu, lba, BigInt(n), true, async (): Promise<Outcome> => {
    try {
      // SBC-4 WRITE SAME, UNMAP 1 and ANCHOR 0: a thin LU should deallocate each LBA, whatever
      // the Data-Out block holds (it is then read as zeros, LBPRZ = 1).
      if (unmap) {
        await lu.backstore.unmap(off, total);
        return GOOD;
      }
      // A store that writes the same block itself (librbd writesame) gets one request.
      if (lu.backstore.writeSame) {
        await lu.backstore.writeSame(off, total, block);
        return GOOD;
      }
      const per = Math.max(1, Math.floor(Math.min(total, IO_CHUNK_BYTES) / bs));
      const pattern = Buffer.allocUnsafe(per * bs);
      for (let i = 0; i < per; i++) pattern.set(block, i * bs);
      for (let done = 0; done < total;) {
        const len = Math.min(pattern.length, total - done);
        await lu.backstore.write(off + done, pattern.subarray(0, len), false);
        done += len;
      }
      return GOOD;
    } catch (e) {
      return senseFromErrno(e, 'write');
    }
  });
};

/** UNMAP parameter list (SBC-4 UNMAP parameter list): 8-byte header, 16-byte block descriptors. */
const UNMAP_HEADER = 8;
const UNMAP_DESCRIPTOR = 16;

interface UnmapRange { lba: bigint; blocks: number }

/**
 * UNMAP (SBC-4). Every descriptor is checked before any block is deallocated, so a refused
 * command changes nothing:
 * - PARAMETER LIST LENGTH 0: nothing to do, not an error; 1..7: PARAMETER LIST LENGTH ERROR.
 * - UNMAP BLOCK DESCRIPTOR DATA LENGTH beyond the parameter list: PARAMETER LIST LENGTH ERROR;
 *   UNMAP DATA LENGTH too short to hold it: INVALID FIELD IN PARAMETER LIST (byte 0). A length
 *   that is not a multiple of 16 leaves an incomplete last descriptor, which is ignored.
 * - more descriptors than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT, or more blocks in total than
 *   MAXIMUM UNMAP LBA COUNT: INVALID FIELD IN PARAMETER LIST.
 * - a descriptor past the last LBA: LOGICAL BLOCK ADDRESS OUT OF RANGE with that LBA.
 */
export const execUnmap: Exec<{ parameterListLength: number }> = ctx => {
  const { lu } = ctx;
  if (!lu.backstore.thin) return check(SENSE.INVALID_COMMAND_OPERATION_CODE);
  const len = ctx.f.parameterListLength;
  if (len === 0) return GOOD;
  if (len < UNMAP_HEADER) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  const p = ctx.dataOut ?? new Uint8Array(0);
  if (p.length !== len) throw new NexusError('ERR_DATA_OUT', `UNMAP: Data-Out ${p.length} bytes, expected ${len}`);
  const unmapDataLength = (p[0] << 8) | p[1];
  const descLength = (p[2] << 8) | p[3];
  if (UNMAP_HEADER + descLength > len) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  if (unmapDataLength < descLength + UNMAP_HEADER - 2) return invalidParamField(0);
  const count = Math.floor(descLength / UNMAP_DESCRIPTOR);
  const limits = sbcLimits(lu.blockSize);
  if (count > limits.maxUnmapDescriptors) return invalidParamField(2);
  const ranges: UnmapRange[] = [];
  let totalBlocks = 0;
  for (let i = 0; i < count; i++) {
    const at = UNMAP_HEADER + i * UNMAP_DESCRIPTOR;
    const dv = new DataView(p.buffer, p.byteOffset + at, UNMAP_DESCRIPTOR);
    const lba = dv.getBigUint64(0);
    const blocks = dv.getUint32(8);
    totalBlocks += blocks;
    if (totalBlocks > limits.maxUnmapLbaCount) return invalidParamField(at + 8);
    const oob = checkLbaRange(lu, lba, BigInt(blocks));
    if (oob) return oob;
    if (blocks > 0) ranges.push({ lba, blocks });
  }
  if (ranges.length === 0) return GOOD;
  return (async (): Promise<Outcome> => {
    for (const r of ranges) {
      try {
        await withRangeLock(lu, r.lba, BigInt(r.blocks), true,
          () => lu.backstore.unmap(byteOffset(lu, r.lba), r.blocks * lu.blockSize));
      } catch (e) {
        return senseFromErrno(e, 'write');
      }
    }
    return GOOD;
  })();
};

/** SBC-4 GET LBA STATUS PROVISIONING STATUS values. */
export enum ProvisioningStatus { MAPPED = 0x0, DEALLOCATED = 0x1, ANCHORED = 0x2 }

const LBA_STATUS_HEADER = 8;
const LBA_STATUS_DESCRIPTOR = 16;
/** Descriptors per answer when the allocation length would allow more: bounds the work. */
const MAX_LBA_STATUS_DESCRIPTORS = 1024;

/**
 * GET LBA STATUS (SBC-4): LBA status descriptors from STARTING LOGICAL BLOCK ADDRESS on, as many
 * as the allocation length holds (at least one), each a run of blocks with one provisioning
 * status. A block that is only partly allocated counts as mapped. STARTING LBA past the last LBA
 * is LOGICAL BLOCK ADDRESS OUT OF RANGE.
 */
export const execGetLbaStatus: Exec<{ lba: bigint; allocationLength: number }> = async ctx => {
  const { lu } = ctx;
  const start = ctx.f.lba;
  if (start >= lu.blocks) return check(SENSE.LBA_OUT_OF_RANGE, { information: start });
  const room = Math.floor(Math.max(0, ctx.f.allocationLength - LBA_STATUS_HEADER) / LBA_STATUS_DESCRIPTOR);
  const want = Math.min(MAX_LBA_STATUS_DESCRIPTORS, Math.max(1, room));
  const bs = lu.blockSize;
  const runs: Array<{ lba: bigint; blocks: bigint; status: ProvisioningStatus }> = [];
  let lba = start;
  try {
    // Bounded: each pass advances at least one block or fills a descriptor.
    while (lba < lu.blocks && runs.length <= want) {
      const st = await lu.backstore.mapStatus(byteOffset(lu, lba));
      let blocks: bigint;
      let mapped = st.mapped;
      if (st.length < bs) { blocks = 1n; mapped = true; } else blocks = BigInt(Math.floor(st.length / bs));
      if (lba + blocks > lu.blocks) blocks = lu.blocks - lba;
      if (blocks > 0xffffffffn) blocks = 0xffffffffn; // NUMBER OF LOGICAL BLOCKS is 32 bits
      const status = mapped ? ProvisioningStatus.MAPPED : ProvisioningStatus.DEALLOCATED;
      const last = runs[runs.length - 1];
      if (last && last.status === status && last.blocks + blocks <= 0xffffffffn) last.blocks += blocks;
      else runs.push({ lba, blocks, status });
      lba += blocks;
    }
  } catch (e) {
    return senseFromErrno(e, 'read');
  }
  const out = runs.slice(0, want);
  const b = Buffer.alloc(LBA_STATUS_HEADER + out.length * LBA_STATUS_DESCRIPTOR);
  b.writeUInt32BE(b.length - 4, 0); // bytes 0..3 PARAMETER DATA LENGTH (bytes that follow it)
  // bytes 4..7 reserved
  out.forEach((r, i) => {
    const at = LBA_STATUS_HEADER + i * LBA_STATUS_DESCRIPTOR;
    b.writeBigUInt64BE(r.lba, at); // bytes 0..7 LOGICAL BLOCK ADDRESS
    b.writeUInt32BE(Number(r.blocks), at + 8); // bytes 8..11 NUMBER OF LOGICAL BLOCKS
    b[at + 12] = r.status; // byte 12 bits 3..0 PROVISIONING STATUS; 13..15 reserved
  });
  return good(b);
};

export const provisioningBindings: Binding[] = [
  bind(D.WRITE_SAME_10, execWriteSame),
  bind(D.WRITE_SAME_16, execWriteSame),
  bind(D.UNMAP, execUnmap),
  bind(D.GET_LBA_STATUS, execGetLbaStatus),
];
