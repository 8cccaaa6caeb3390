import { Op, SaIn16, SanitizeSa } from '../../spec/opcodes';
import { be16, be32, be64, bit, bits, cdb, CONTROL, Dir, DT, lba21, lba64, ReadyClass, ResvClass, u8, u8Zero256 } from '../dsl';

/**
 * SBC-4 command rows for direct-access block devices. Usage masks list the bits the device server
 * examines (SPC-4 6.35.3); everything else is reserved or an unsupported feature and so draws
 * INVALID FIELD IN CDB from the decoder:
 * - RDPROTECT / WRPROTECT / VRPROTECT / ORPROTECT (byte 1 bits 7..5): no protection information
 *   (SBC-4 protection information: a non-zero value without PROTECT=1 is INVALID FIELD IN CDB).
 * - FUA_NV and the other obsolete byte-1 bits of READ/WRITE: refused.
 * - ANCHOR of WRITE SAME and UNMAP: anchored LBAs are not supported (ANC_SUP = 0).
 * - WRITE SAME PBDATA/LBDATA (obsolete in SBC-4): refused.
 * GROUP NUMBER (6 bits) is accepted and ignored: it is a hint.
 *
 * Reservation classes follow SBC-4's persistent reservations table: reads and medium
 * verification are READ (allowed under Write Exclusive), everything that changes the medium or
 * its cache CONFLICTS, READ CAPACITY is ALLOWED.
 */

const FF4 = [0xff, 0xff, 0xff, 0xff] as const;
const FF8 = [...FF4, ...FF4] as const;
/** Byte 1 of READ/WRITE(10/12/16) and COMPARE AND WRITE: DPO (bit 4) and FUA (bit 3). */
const DPO_FUA = 0x18;
/** Byte 1 of VERIFY and WRITE AND VERIFY: DPO (bit 4) and BYTCHK (bits 2..1). */
const DPO_BYTCHK = 0x16;
/** GROUP NUMBER, bits 5..0. */
const GROUP = 0x3f;

const RW_TIMEOUTS = [30, 60] as const;
const LONG_TIMEOUTS = [60, 300] as const;

// --- READ CAPACITY ---------------------------------------------------------------------------

// SBC-4 the LOGICAL BLOCK ADDRESS (bytes 2..5) and PMI (byte 8 bit 0) are obsolete; they are
// accepted and ignored so that older initiators that still fill them keep working.
export const READ_CAPACITY_10 = cdb({
  ready: ReadyClass.STOPPED,
  op: Op.READ_CAPACITY_10, name: 'READ CAPACITY(10)', size: 10, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_CAPACITY_10, 0x00, ...FF4, 0x00, 0x00, 0x01, CONTROL],
  fields: {},
  xfer: () => 8, resv: ResvClass.ALLOWED, timeouts: [1, 5],
});

// SBC-4 SERVICE ACTION IN(16) / READ CAPACITY(16).
export const READ_CAPACITY_16 = cdb({
  ready: ReadyClass.STOPPED,
  op: Op.SERVICE_ACTION_IN_16, sa: SaIn16.READ_CAPACITY_16, name: 'READ CAPACITY(16)', size: 16, dir: Dir.IN,
  types: DT.DISK,
  usage: [Op.SERVICE_ACTION_IN_16, 0x1f, ...FF8, ...FF4, 0x01, CONTROL],
  fields: { allocationLength: be32(10) },
  xfer: f => f.allocationLength, resv: ResvClass.ALLOWED, timeouts: [1, 5],
});

// --- READ / WRITE ----------------------------------------------------------------------------

// SBC-4 READ(6). TRANSFER LENGTH 0 means 256 blocks.
export const READ_6 = cdb({
  countsAsRead: true,
  op: Op.READ_6, name: 'READ(6)', size: 6, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_6, 0x1f, 0xff, 0xff, 0xff, CONTROL],
  fields: { lba: lba21(), blocks: u8Zero256(4) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

export const READ_10 = cdb({
  countsAsRead: true,
  op: Op.READ_10, name: 'READ(10)', size: 10, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_10, DPO_FUA, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be16(7) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

export const READ_12 = cdb({
  countsAsRead: true,
  op: Op.READ_12, name: 'READ(12)', size: 12, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_12, DPO_FUA, ...FF4, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be32(6) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

export const READ_16 = cdb({
  countsAsRead: true,
  op: Op.READ_16, name: 'READ(16)', size: 16, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_16, DPO_FUA, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: lba64(2), blocks: be32(10) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

// SBC-4 WRITE(6). TRANSFER LENGTH 0 means 256 blocks.
export const WRITE_6 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_6, name: 'WRITE(6)', size: 6, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_6, 0x1f, 0xff, 0xff, 0xff, CONTROL],
  fields: { lba: lba21(), blocks: u8Zero256(4) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true,
  timeouts: RW_TIMEOUTS,
});

export const WRITE_10 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_10, name: 'WRITE(10)', size: 10, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_10, DPO_FUA, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be16(7) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

export const WRITE_12 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_12, name: 'WRITE(12)', size: 12, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_12, DPO_FUA, ...FF4, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be32(6) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

export const WRITE_16 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_16, name: 'WRITE(16)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_16, DPO_FUA, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: lba64(2), blocks: be32(10) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

// --- WRITE AND VERIFY / VERIFY ---------------------------------------------------------------

/**
 * Data-Out of VERIFY by BYTCHK (SBC-4 VERIFY): 00b none, 01b VERIFICATION LENGTH blocks,
 * 11b one block (compared against every block), 10b reserved (refused by the handler).
 */
function verifyXfer(f: { bytchk: number; blocks: number }, bs: number): number {
  if (f.bytchk === 0b01) return f.blocks * bs;
  if (f.bytchk === 0b11) return f.blocks === 0 ? 0 : bs;
  return 0;
}

/** WRITE AND VERIFY always carries the blocks to write (BYTCHK 00b and 01b; others refused). */
function writeVerifyXfer(f: { bytchk: number; blocks: number }, bs: number): number {
  return f.bytchk === 0b00 || f.bytchk === 0b01 ? f.blocks * bs : 0;
}

export const WRITE_AND_VERIFY_10 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_AND_VERIFY_10, name: 'WRITE AND VERIFY(10)', size: 10, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_AND_VERIFY_10, DPO_BYTCHK, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: be32(2), blocks: be16(7) },
  xfer: writeVerifyXfer, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

export const WRITE_AND_VERIFY_12 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_AND_VERIFY_12, name: 'WRITE AND VERIFY(12)', size: 12, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_AND_VERIFY_12, DPO_BYTCHK, ...FF4, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: be32(2), blocks: be32(6) },
  xfer: writeVerifyXfer, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

export const WRITE_AND_VERIFY_16 = cdb({
  truncatableDataOut: true,
  op: Op.WRITE_AND_VERIFY_16, name: 'WRITE AND VERIFY(16)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_AND_VERIFY_16, DPO_BYTCHK, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: lba64(2), blocks: be32(10) },
  xfer: writeVerifyXfer, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

export const VERIFY_10 = cdb({
  op: Op.VERIFY_10, name: 'VERIFY(10)', size: 10, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.VERIFY_10, DPO_BYTCHK, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: be32(2), blocks: be16(7) },
  xfer: verifyXfer, resv: ResvClass.READ, timeouts: LONG_TIMEOUTS,
});

export const VERIFY_12 = cdb({
  op: Op.VERIFY_12, name: 'VERIFY(12)', size: 12, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.VERIFY_12, DPO_BYTCHK, ...FF4, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: be32(2), blocks: be32(6) },
  xfer: verifyXfer, resv: ResvClass.READ, timeouts: LONG_TIMEOUTS,
});

export const VERIFY_16 = cdb({
  op: Op.VERIFY_16, name: 'VERIFY(16)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.VERIFY_16, DPO_BYTCHK, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), bytchk: bits(1, 1, 2), lba: lba64(2), blocks: be32(10) },
  xfer: verifyXfer, resv: ResvClass.READ, timeouts: LONG_TIMEOUTS,
});

// --- COMPARE AND WRITE / ORWRITE -------------------------------------------------------------

// SBC-4 Data-Out is NUMBER OF LOGICAL BLOCKS of verify data followed by as many of write data.
export const COMPARE_AND_WRITE = cdb({
  op: Op.COMPARE_AND_WRITE, name: 'COMPARE AND WRITE', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.COMPARE_AND_WRITE, DPO_FUA, ...FF8, 0x00, 0x00, 0x00, 0xff, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: lba64(2), blocks: u8(13) },
  xfer: (f, bs) => 2 * f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
  // The verify and write halves are split at NUMBER OF LOGICAL BLOCKS (byte 13): Data-Out of any
  // other size cannot be split, so it is refused rather than trimmed.
  exactDataOut: { field: 'blocks' },
});

// SBC-4 ORWRITE(16), the OR of Data-Out into the medium.
export const ORWRITE_16 = cdb({
  op: Op.ORWRITE_16, name: 'ORWRITE(16)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.ORWRITE_16, DPO_FUA, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: lba64(2), blocks: be32(10) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: RW_TIMEOUTS,
});

// --- cache ----------------------------------------------------------------------------------

// SBC-4 PRE-FETCH(10); PREFETCH LENGTH 0 means "to the last LBA".
export const PRE_FETCH_10 = cdb({
  op: Op.PRE_FETCH_10, name: 'PRE-FETCH(10)', size: 10, dir: Dir.NONE, types: DT.DISK,
  usage: [Op.PRE_FETCH_10, 0x02, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { immed: bit(1, 1), lba: be32(2), blocks: be16(7) },
  resv: ResvClass.READ, timeouts: LONG_TIMEOUTS,
});

export const PRE_FETCH_16 = cdb({
  op: Op.PRE_FETCH_16, name: 'PRE-FETCH(16)', size: 16, dir: Dir.NONE, types: DT.DISK,
  usage: [Op.PRE_FETCH_16, 0x02, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { immed: bit(1, 1), lba: lba64(2), blocks: be32(10) },
  resv: ResvClass.READ, timeouts: LONG_TIMEOUTS,
});

// SBC-4 SYNCHRONIZE CACHE(10); NUMBER OF LOGICAL BLOCKS 0 means "to the last LBA".
// Byte 1 bit 2 (SYNC_NV, obsolete) is accepted and ignored: older initiators set it.
export const SYNCHRONIZE_CACHE_10 = cdb({
  op: Op.SYNCHRONIZE_CACHE_10, name: 'SYNCHRONIZE CACHE(10)', size: 10, dir: Dir.NONE, types: DT.DISK,
  usage: [Op.SYNCHRONIZE_CACHE_10, 0x06, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { immed: bit(1, 1), lba: be32(2), blocks: be16(7) },
  resv: ResvClass.CONFLICTS, timeouts: LONG_TIMEOUTS,
});

export const SYNCHRONIZE_CACHE_16 = cdb({
  op: Op.SYNCHRONIZE_CACHE_16, name: 'SYNCHRONIZE CACHE(16)', size: 16, dir: Dir.NONE, types: DT.DISK,
  usage: [Op.SYNCHRONIZE_CACHE_16, 0x06, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { immed: bit(1, 1), lba: lba64(2), blocks: be32(10) },
  resv: ResvClass.CONFLICTS, timeouts: LONG_TIMEOUTS,
});

// --- provisioning ---------------------------------------------------------------------------

// SBC-4 WRITE SAME(10): one block of Data-Out, UNMAP (bit 3); ANCHOR, PBDATA, LBDATA refused.
export const WRITE_SAME_10 = cdb({
  op: Op.WRITE_SAME_10, name: 'WRITE SAME(10)', size: 10, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_SAME_10, 0x08, ...FF4, GROUP, 0xff, 0xff, CONTROL],
  fields: { unmap: bit(1, 3), lba: be32(2), blocks: be16(7) },
  xfer: (_f, bs) => bs, resv: ResvClass.CONFLICTS, writes: true, timeouts: LONG_TIMEOUTS,
  // Exactly one logical block is replicated: more or less Data-Out is not a WRITE SAME.
  exactDataOut: {},
});

// SBC-4 WRITE SAME(16): adds NDOB (bit 0): no Data-Out, the block is zeros.
export const WRITE_SAME_16 = cdb({
  op: Op.WRITE_SAME_16, name: 'WRITE SAME(16)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.WRITE_SAME_16, 0x09, ...FF8, ...FF4, GROUP, CONTROL],
  fields: { unmap: bit(1, 3), ndob: bit(1, 0), lba: lba64(2), blocks: be32(10) },
  xfer: (f, bs) => (f.ndob ? 0 : bs), resv: ResvClass.CONFLICTS, writes: true, timeouts: LONG_TIMEOUTS,
  exactDataOut: {},
});

// SBC-4 UNMAP; ANCHOR (byte 1 bit 0) refused (ANC_SUP = 0).
export const UNMAP = cdb({
  op: Op.UNMAP, name: 'UNMAP', size: 10, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.UNMAP, 0x00, 0x00, 0x00, 0x00, 0x00, GROUP, 0xff, 0xff, CONTROL],
  fields: { parameterListLength: be16(7) },
  xfer: f => f.parameterListLength, resv: ResvClass.CONFLICTS, writes: true, timeouts: LONG_TIMEOUTS,
});

// SBC-4 SERVICE ACTION IN(16) / GET LBA STATUS. Byte 14 (REPORT TYPE in later revisions) is
// not examined: every status is reported.
export const GET_LBA_STATUS = cdb({
  op: Op.SERVICE_ACTION_IN_16, sa: SaIn16.GET_LBA_STATUS, name: 'GET LBA STATUS', size: 16, dir: Dir.IN,
  types: DT.DISK,
  usage: [Op.SERVICE_ACTION_IN_16, 0x1f, ...FF8, ...FF4, 0x00, CONTROL],
  fields: { lba: be64(2), allocationLength: be32(10) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: [5, 30],
});

// --- unit control ---------------------------------------------------------------------------

// SBC-4 START STOP UNIT. Byte 3 POWER CONDITION MODIFIER, byte 4 POWER CONDITION (7..4),
// NO_FLUSH (2), LOEJ (1), START (0).
export const START_STOP_UNIT = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.START_STOP_UNIT, name: 'START STOP UNIT', size: 6, dir: Dir.NONE, types: DT.DISK,
  usage: [Op.START_STOP_UNIT, 0x01, 0x00, 0x0f, 0xf7, CONTROL],
  fields: {
    immed: bit(1, 0), powerConditionModifier: bits(3, 0, 4), powerCondition: bits(4, 4, 4),
    noFlush: bit(4, 2), loej: bit(4, 1), start: bit(4, 0),
  },
  resv: ResvClass.CONFLICTS, timeouts: LONG_TIMEOUTS,
});

// SBC-4 PREVENT ALLOW MEDIUM REMOVAL; PREVENT 10b/11b are obsolete for disks. SSC-4 tape drives
// and MMC-6 drives share the CDB.
export const PREVENT_ALLOW_MEDIUM_REMOVAL = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.PREVENT_ALLOW_MEDIUM_REMOVAL, name: 'PREVENT ALLOW MEDIUM REMOVAL', size: 6, dir: Dir.NONE,
  types: DT.DISK | DT.CDROM | DT.TAPE,
  usage: [Op.PREVENT_ALLOW_MEDIUM_REMOVAL, 0x00, 0x00, 0x00, 0x01, CONTROL],
  fields: { prevent: bit(4, 0) },
  resv: ResvClass.CONFLICTS, timeouts: [1, 5],
});

// SBC-4 READ DEFECT DATA(10): REQ_PLIST (byte 2 bit 4), REQ_GLIST (bit 3), format (2..0).
export const READ_DEFECT_DATA_10 = cdb({
  op: Op.READ_DEFECT_DATA_10, name: 'READ DEFECT DATA(10)', size: 10, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_DEFECT_DATA_10, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { reqPlist: bit(2, 4), reqGlist: bit(2, 3), format: bits(2, 0, 3), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: [5, 30],
});

// SBC-4 READ DEFECT DATA(12): the same flags in byte 1, ADDRESS DESCRIPTOR INDEX in 2..5.
export const READ_DEFECT_DATA_12 = cdb({
  op: Op.READ_DEFECT_DATA_12, name: 'READ DEFECT DATA(12)', size: 12, dir: Dir.IN, types: DT.DISK,
  usage: [Op.READ_DEFECT_DATA_12, 0x1f, ...FF4, ...FF4, 0x00, CONTROL],
  fields: {
    reqPlist: bit(1, 4), reqGlist: bit(1, 3), format: bits(1, 0, 3), addressDescriptorIndex: be32(2),
    allocationLength: be32(6),
  },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: [5, 30],
});


// --- SANITIZE -------------------------------------------------------------------------------

/**
 * SBC-4 5.30 SANITIZE, one row per supported service action: byte 1 IMMED (bit 7), AUSE (bit 5)
 * and the SERVICE ACTION; bytes 7..8 PARAMETER LIST LENGTH. CRYPTOGRAPHIC ERASE has no row (no
 * encryption to forget a key of): the decoder refuses it with INVALID FIELD IN CDB at byte 1.
 */
function sanitizeRow(sa: SanitizeSa, name: string) {
  return cdb({
    op: Op.SANITIZE, sa, name: `SANITIZE (${name})`, size: 10, dir: Dir.OUT, types: DT.DISK,
    usage: [Op.SANITIZE, 0xbf, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
    fields: { immed: bit(1, 7), ause: bit(1, 5), parameterListLength: be16(7) },
    xfer: f => f.parameterListLength, resv: ResvClass.CONFLICTS, writes: true, timeouts: [3600, 36000],
  });
}

export const SANITIZE_OVERWRITE = sanitizeRow(SanitizeSa.OVERWRITE, 'OVERWRITE');
/** Only where blocks can be deallocated (thin units): the erase is a deallocation of every LBA. */
export const SANITIZE_BLOCK_ERASE = sanitizeRow(SanitizeSa.BLOCK_ERASE, 'BLOCK ERASE');
export const SANITIZE_EXIT_FAILURE_MODE = sanitizeRow(SanitizeSa.EXIT_FAILURE_MODE, 'EXIT FAILURE MODE');
