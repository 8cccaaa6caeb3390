import { Op } from '../../spec/opcodes';
import { be16, be24, be32, be64, bit, bits, cdb, CONTROL, Dir, DT, Field, ReadyClass, ResvClass, u8 } from '../dsl';

/**
 * SSC-4 command rows for tape drives (sequential-access devices). The SPC-4 rows a drive shares
 * with disks come from their own definitions. Usage masks list exactly the bits the drive
 * examines (SPC-4 6.35.3): the setmark bits (WSMK, SPACE codes 100b/101b) and the obsolete or
 * unclaimed ones (LOAD UNLOAD EOT, READ BLOCK LIMITS MLOI) are outside them, so a CDB that sets
 * them is INVALID FIELD IN CDB at that bit.
 *
 * Reservation classes: commands that record or change the medium or its position for everyone
 * (WRITE, WRITE FILEMARKS, ERASE, LOAD UNLOAD) CONFLICTS; reads and positioning READ (allowed
 * under Write Exclusive, SSC-4 table 5 of persistent reservations); pure reports READ too, since
 * SPC-2 RESERVE lets only INQUIRY-like commands through.
 */

/** SSC-4 SPACE(6) COUNT: a 24-bit two's complement number (negative: toward BOP). */
const sbe24 = (byte: number): Field<number> => ({
  read: c => { const v = (c[byte] << 16) | (c[byte + 1] << 8) | c[byte + 2]; return v & 0x800000 ? v - 0x1000000 : v; },
  byte,
});

/** SSC-4 SPACE(16) COUNT: a 64-bit two's complement number. */
const sbe64 = (byte: number): Field<bigint> => ({
  read: c => BigInt.asIntN(64, be64(byte).read(c)),
  byte,
});

const FF8 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] as const;

const RW_TIMEOUTS = [60, 900] as const;
const MOTION_TIMEOUTS = [60, 3600] as const;
const REPORT_TIMEOUTS = [1, 10] as const;

/**
 * SSC-4 READ(6): SILI (byte 1 bit 1), FIXED (bit 0), TRANSFER LENGTH (bytes 2..4): blocks of the
 * mode's block length with FIXED one, else the bytes of one variable-length block.
 */
export const READ_6 = cdb({
  op: Op.READ_6, name: 'READ(6)', size: 6, dir: Dir.IN, types: DT.TAPE,
  usage: [Op.READ_6, 0x03, 0xff, 0xff, 0xff, CONTROL],
  fields: { sili: bit(1, 1), fixed: bit(1, 0), transferLength: be24(2) },
  xfer: (f, bs) => (f.fixed ? f.transferLength * bs : f.transferLength), resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

/** SSC-4 WRITE(6): FIXED (byte 1 bit 0), TRANSFER LENGTH (bytes 2..4) as READ(6). */
export const WRITE_6 = cdb({
  writes: true,
  op: Op.WRITE_6, name: 'WRITE(6)', size: 6, dir: Dir.OUT, types: DT.TAPE,
  usage: [Op.WRITE_6, 0x01, 0xff, 0xff, 0xff, CONTROL],
  fields: { fixed: bit(1, 0), transferLength: be24(2) },
  xfer: (f, bs) => (f.fixed ? f.transferLength * bs : f.transferLength), resv: ResvClass.CONFLICTS, timeouts: RW_TIMEOUTS,
});

/** SSC-4 WRITE FILEMARKS(6): IMMED (byte 1 bit 0), FILEMARK COUNT (bytes 2..4); WSMK is not claimed. */
export const WRITE_FILEMARKS_6 = cdb({
  writes: true,
  op: Op.WRITE_FILEMARKS_6, name: 'WRITE FILEMARKS(6)', size: 6, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.WRITE_FILEMARKS_6, 0x01, 0xff, 0xff, 0xff, CONTROL],
  fields: { immed: bit(1, 0), filemarkCount: be24(2) },
  resv: ResvClass.CONFLICTS, timeouts: RW_TIMEOUTS,
});

/** SSC-4 SPACE(6): CODE (byte 1 bits 3..0), COUNT (bytes 2..4, two's complement). */
export const SPACE_6 = cdb({
  op: Op.SPACE_6, name: 'SPACE(6)', size: 6, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.SPACE_6, 0x0f, 0xff, 0xff, 0xff, CONTROL],
  fields: { code: bits(1, 0, 4), count: sbe24(2) },
  resv: ResvClass.READ, timeouts: MOTION_TIMEOUTS,
});

/** SSC-4 REWIND: IMMED (byte 1 bit 0). */
export const REWIND = cdb({
  op: Op.REWIND, name: 'REWIND', size: 6, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.REWIND, 0x01, 0x00, 0x00, 0x00, CONTROL],
  fields: { immed: bit(1, 0) },
  resv: ResvClass.READ, timeouts: MOTION_TIMEOUTS,
});

/**
 * SSC-4 LOAD UNLOAD: IMMED (byte 1 bit 0); byte 4 HOLD (bit 3), RETEN (bit 1), LOAD (bit 0).
 * EOT (bit 2, unload at end of tape) is not claimed. Served with no medium: it is how one loads.
 */
export const LOAD_UNLOAD = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.LOAD_UNLOAD, name: 'LOAD UNLOAD', size: 6, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.LOAD_UNLOAD, 0x01, 0x00, 0x00, 0x0b, CONTROL],
  fields: { immed: bit(1, 0), hold: bit(4, 3), reten: bit(4, 1), load: bit(4, 0) },
  resv: ResvClass.CONFLICTS, timeouts: MOTION_TIMEOUTS,
});

/**
 * SSC-4 LOCATE(10): BT (byte 1 bit 2), CP (bit 1), IMMED (bit 0), LOGICAL OBJECT IDENTIFIER
 * (bytes 3..6), PARTITION (byte 8).
 */
export const LOCATE_10 = cdb({
  op: Op.LOCATE_10, name: 'LOCATE(10)', size: 10, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.LOCATE_10, 0x07, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, CONTROL],
  fields: { bt: bit(1, 2), cp: bit(1, 1), immed: bit(1, 0), logicalObjectIdentifier: be32(3), partition: u8(8) },
  resv: ResvClass.READ, timeouts: MOTION_TIMEOUTS,
});

/** SSC-4 READ POSITION service actions (byte 1 bits 4..0). */
export const enum ReadPositionForm {
  SHORT_FORM_BLOCK_ID = 0x00,
  SHORT_FORM_VENDOR_SPECIFIC = 0x01,
  LONG_FORM = 0x06,
  EXTENDED_FORM = 0x08,
}

/** The fixed length of each form's data (SSC-4 7.2): 20 bytes short, 32 long and extended. */
export function readPositionLength(form: number, allocationLength: number): number {
  switch (form) {
    case ReadPositionForm.SHORT_FORM_BLOCK_ID:
    case ReadPositionForm.SHORT_FORM_VENDOR_SPECIFIC: return 20;
    case ReadPositionForm.LONG_FORM: return 32;
    case ReadPositionForm.EXTENDED_FORM: return allocationLength;
    default: return 0;
  }
}

/**
 * SSC-4 READ POSITION: SERVICE ACTION (byte 1 bits 4..0), ALLOCATION LENGTH (bytes 7..8, for
 * the extended form; zero for the others). Not keyed by service action: 34h is not one of
 * SPC-4's service-action opcodes, and Linux st still sends the SSC-2 form (byte 1 = 01h, BT).
 */
export const READ_POSITION = cdb({
  op: Op.READ_POSITION, name: 'READ POSITION', size: 10, dir: Dir.IN, types: DT.TAPE,
  usage: [Op.READ_POSITION, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { serviceAction: bits(1, 0, 5), allocationLength: be16(7) },
  xfer: f => readPositionLength(f.serviceAction, f.allocationLength), resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

/** SSC-4 ERASE(6): IMMED (byte 1 bit 1), LONG (bit 0). */
export const ERASE_6 = cdb({
  writes: true,
  op: Op.ERASE_6, name: 'ERASE(6)', size: 6, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.ERASE_6, 0x03, 0x00, 0x00, 0x00, CONTROL],
  fields: { immed: bit(1, 1), long: bit(1, 0) },
  resv: ResvClass.CONFLICTS, timeouts: MOTION_TIMEOUTS,
});

/** SSC-4 READ BLOCK LIMITS: no fields (MLOI, byte 1 bit 0, is not claimed); 6 bytes of data. */
export const READ_BLOCK_LIMITS = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.READ_BLOCK_LIMITS, name: 'READ BLOCK LIMITS', size: 6, dir: Dir.IN, types: DT.TAPE,
  usage: [Op.READ_BLOCK_LIMITS, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {},
  xfer: () => 6, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

/**
 * SSC-4 REPORT DENSITY SUPPORT: MEDIA (byte 1 bit 0: the densities of the mounted medium, which
 * then must be there), ALLOCATION LENGTH (bytes 7..8). MEDIUM TYPE (bit 1) is not claimed.
 */
export const REPORT_DENSITY_SUPPORT = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.REPORT_DENSITY_SUPPORT, name: 'REPORT DENSITY SUPPORT', size: 10, dir: Dir.IN, types: DT.TAPE,
  usage: [Op.REPORT_DENSITY_SUPPORT, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { media: bit(1, 0), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

/*
 * The 16-byte forms (SSC-4): READ(16), WRITE(16) and WRITE FILEMARKS(16) name the partition and
 * logical object where they start, and the drive locates there first when it is elsewhere;
 * SPACE(16) has a 64-bit COUNT; LOCATE(16) goes to a logical object, a logical file or
 * end-of-data. FCS and LCS (byte 1 bits 3 and 2, command sequencing with the first and last
 * command of a sequence) are not claimed: they are outside the masks, like WSMK.
 */

/**
 * SSC-4 READ(16): SILI (byte 1 bit 1), FIXED (bit 0), PARTITION (byte 3), LOGICAL OBJECT
 * IDENTIFIER (bytes 4..11), TRANSFER LENGTH (bytes 12..14) as READ(6)'s.
 */
export const READ_16 = cdb({
  op: Op.READ_16, name: 'READ(16)', size: 16, dir: Dir.IN, types: DT.TAPE,
  usage: [Op.READ_16, 0x03, 0x00, 0xff, ...FF8, 0xff, 0xff, 0xff, CONTROL],
  fields: { sili: bit(1, 1), fixed: bit(1, 0), partition: u8(3), logicalObjectIdentifier: be64(4), transferLength: be24(12) },
  xfer: (f, bs) => (f.fixed ? f.transferLength * bs : f.transferLength), resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

/** SSC-4 WRITE(16): FIXED (byte 1 bit 0), PARTITION (byte 3), LOGICAL OBJECT IDENTIFIER (bytes 4..11), TRANSFER LENGTH (bytes 12..14). */
export const WRITE_16 = cdb({
  writes: true,
  op: Op.WRITE_16, name: 'WRITE(16)', size: 16, dir: Dir.OUT, types: DT.TAPE,
  usage: [Op.WRITE_16, 0x01, 0x00, 0xff, ...FF8, 0xff, 0xff, 0xff, CONTROL],
  fields: { fixed: bit(1, 0), partition: u8(3), logicalObjectIdentifier: be64(4), transferLength: be24(12) },
  xfer: (f, bs) => (f.fixed ? f.transferLength * bs : f.transferLength), resv: ResvClass.CONFLICTS, timeouts: RW_TIMEOUTS,
});

/**
 * SSC-4 WRITE FILEMARKS(16): IMMED (byte 1 bit 0), PARTITION (byte 3), LOGICAL OBJECT IDENTIFIER
 * (bytes 4..11), FILEMARK COUNT (bytes 12..14); WSMK (bit 1) is not claimed.
 */
export const WRITE_FILEMARKS_16 = cdb({
  writes: true,
  op: Op.WRITE_FILEMARKS_16, name: 'WRITE FILEMARKS(16)', size: 16, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.WRITE_FILEMARKS_16, 0x01, 0x00, 0xff, ...FF8, 0xff, 0xff, 0xff, CONTROL],
  fields: { immed: bit(1, 0), partition: u8(3), logicalObjectIdentifier: be64(4), filemarkCount: be24(12) },
  resv: ResvClass.CONFLICTS, timeouts: RW_TIMEOUTS,
});

/**
 * SSC-4 SPACE(16): CODE (byte 1 bits 3..0), COUNT (bytes 4..11, two's complement). PARAMETER
 * LENGTH (bytes 12..13) names a parameter list SSC-4 defines none of: it is zero, so it is
 * outside the mask.
 */
export const SPACE_16 = cdb({
  op: Op.SPACE_16, name: 'SPACE(16)', size: 16, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.SPACE_16, 0x0f, 0x00, 0x00, ...FF8, 0x00, 0x00, 0x00, CONTROL],
  fields: { code: bits(1, 0, 4), count: sbe64(4) },
  resv: ResvClass.READ, timeouts: MOTION_TIMEOUTS,
});

/** SSC-4 LOCATE(16) DEST_TYPE values (byte 1 bits 5..3); 010b is obsolete, the rest reserved. */
export const enum LocateDestType { LOGICAL_OBJECT_IDENTIFIER = 0b000, LOGICAL_FILE_IDENTIFIER = 0b001, END_OF_DATA = 0b011 }

/**
 * SSC-4 LOCATE(16): DEST_TYPE (byte 1 bits 5..3), CP (bit 1), IMMED (bit 0), BAM (byte 2 bit
 * 0: explicit or implicit block address mode, which a drive that buffers nothing treats alike),
 * PARTITION (byte 3), LOGICAL IDENTIFIER (bytes 4..11).
 */
export const LOCATE_16 = cdb({
  op: Op.LOCATE_16, name: 'LOCATE(16)', size: 16, dir: Dir.NONE, types: DT.TAPE,
  usage: [Op.LOCATE_16, 0x3b, 0x01, 0xff, ...FF8, 0x00, 0x00, 0x00, CONTROL],
  fields: {
    destType: bits(1, 3, 3), cp: bit(1, 1), immed: bit(1, 0), bam: bit(2, 0), partition: u8(3), logicalIdentifier: be64(4),
  },
  resv: ResvClass.READ, timeouts: MOTION_TIMEOUTS,
});
