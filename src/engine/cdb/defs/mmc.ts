import { Op } from '../../spec/opcodes';
import { be16, be32, bit, bits, cdb, CONTROL, Dir, DT, ReadyClass, ResvClass, u8 } from '../dsl';

/**
 * MMC-6 command rows for CD/DVD-ROM drives (read-only profiles). The SPC-4 rows a drive shares
 * with disks (INQUIRY, MODE SENSE/SELECT, LOG SENSE, RSOC, TEST UNIT READY, REQUEST SENSE, REPORT
 * LUNS, RESERVE/RELEASE, PREVENT ALLOW MEDIUM REMOVAL) come from their own definitions. The rows
 * here are the ones MMC-6 defines itself, READ CAPACITY, READ(10/12) and START STOP UNIT included:
 * their CDBs differ from SBC-4's in the bits a drive examines. Usage masks list exactly those bits
 * (SPC-4 6.35.3); obsolete ones (RelAdr, PMI) are refused with INVALID FIELD IN CDB.
 *
 * Reservation classes: reads of the medium and of its structure are READ, commands that change
 * the drive's state (START STOP UNIT, SET CD SPEED) CONFLICTS, pure reports ALLOWED.
 */

const FF4 = [0xff, 0xff, 0xff, 0xff] as const;
/** Byte 1 of READ(10)/READ(12): DPO (bit 4) and FUA (bit 3); RelAdr (bit 0) is obsolete. */
const DPO_FUA = 0x18;
const RW_TIMEOUTS = [30, 60] as const;
const REPORT_TIMEOUTS = [1, 10] as const;

// MMC-6 READ CAPACITY(10): every byte but the opcode and CONTROL is reserved or obsolete (RelAdr,
// LOGICAL BLOCK ADDRESS, PMI).
export const READ_CAPACITY = cdb({
  op: Op.READ_CAPACITY_10, name: 'READ CAPACITY(10)', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_CAPACITY_10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {},
  xfer: () => 8, resv: ResvClass.ALLOWED, timeouts: [1, 5],
});

// MMC-6 READ(10): DPO, FUA, LOGICAL BLOCK ADDRESS (2..5), TRANSFER LENGTH (7..8); byte 6
// is reserved (no GROUP NUMBER).
export const READ_10 = cdb({
  countsAsRead: true,
  op: Op.READ_10, name: 'READ(10)', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_10, DPO_FUA, ...FF4, 0x00, 0xff, 0xff, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be16(7) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

// MMC-6 READ(12): as READ(10) with a 32-bit TRANSFER LENGTH (6..9); byte 10 Streaming
// (bit 7) asks for stream recording performance, which an image has anyway.
export const READ_12 = cdb({
  countsAsRead: true,
  op: Op.READ_12, name: 'READ(12)', size: 12, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_12, DPO_FUA, ...FF4, ...FF4, 0x80, CONTROL],
  fields: { dpo: bit(1, 4), fua: bit(1, 3), lba: be32(2), blocks: be32(6), streaming: bit(10, 7) },
  xfer: (f, bs) => f.blocks * bs, resv: ResvClass.READ, timeouts: RW_TIMEOUTS,
});

// MMC-6 START STOP UNIT: IMMED (byte 1 bit 0); byte 3 FORMAT-LAYER NUMBER and byte 4 FL (bit 2)
// select a format layer of hybrid discs, which an image has one of: outside the mask. Byte 4
// POWER CONDITIONS (7..4), LoEj (1), Start (0).
export const START_STOP_UNIT = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.START_STOP_UNIT, name: 'START STOP UNIT', size: 6, dir: Dir.NONE, types: DT.CDROM,
  usage: [Op.START_STOP_UNIT, 0x01, 0x00, 0x00, 0xf3, CONTROL],
  fields: { immed: bit(1, 0), powerCondition: bits(4, 4, 4), loej: bit(4, 1), start: bit(4, 0) },
  resv: ResvClass.CONFLICTS, timeouts: [30, 60],
});

// MMC-6 READ TOC/PMA/ATIP: MSF (byte 1 bit 1), FORMAT (byte 2 bits 3..0), TRACK/SESSION NUMBER
// (byte 6), ALLOCATION LENGTH (7..8). Byte 9 bits 7..6 are the FORMAT of SFF-8020 drives, which
// initiators still send (Linux sr asks for the session information with 40h there): MMC-6 keeps
// them as the old format field, read when FORMAT is zero.
export const READ_TOC_PMA_ATIP = cdb({
  op: Op.READ_TOC_PMA_ATIP, name: 'READ TOC/PMA/ATIP', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_TOC_PMA_ATIP, 0x02, 0x0f, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xc0],
  fields: { msf: bit(1, 1), format: bits(2, 0, 4), trackSessionNumber: u8(6), allocationLength: be16(7), legacyFormat: bits(9, 6, 2) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 GET CONFIGURATION: RT (byte 1 bits 1..0), STARTING FEATURE NUMBER (2..3), ALLOCATION LENGTH
// (7..8). MMC-6: answered with no medium, and without reporting a unit attention.
export const GET_CONFIGURATION = cdb({
  ready: ReadyClass.NO_MEDIUM, skipsUa: true,
  op: Op.GET_CONFIGURATION, name: 'GET CONFIGURATION', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.GET_CONFIGURATION, 0x03, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { rt: bits(1, 0, 2), startingFeatureNumber: be16(2), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.ALLOWED, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 GET EVENT STATUS NOTIFICATION: Polled (byte 1 bit 0), NOTIFICATION CLASS REQUEST (byte 4), ALLOCATION
// LENGTH (7..8). Polled by initiators while a unit attention may be pending: it neither reports
// nor clears one (MMC-6).
export const GET_EVENT_STATUS_NOTIFICATION = cdb({
  ready: ReadyClass.NO_MEDIUM, skipsUa: true,
  op: Op.GET_EVENT_STATUS_NOTIFICATION, name: 'GET EVENT STATUS NOTIFICATION', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.GET_EVENT_STATUS_NOTIFICATION, 0x01, 0x00, 0x00, 0xff, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { polled: bit(1, 0), notificationClassRequest: u8(4), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.ALLOWED, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 READ DISC INFORMATION: DATA TYPE (byte 1 bits 2..0), ALLOCATION LENGTH (7..8).
export const READ_DISC_INFORMATION = cdb({
  op: Op.READ_DISC_INFORMATION, name: 'READ DISC INFORMATION', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_DISC_INFORMATION, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { dataType: bits(1, 0, 3), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 READ TRACK INFORMATION: ADDRESS/NUMBER TYPE (byte 1 bits 1..0), LOGICAL BLOCK ADDRESS/TRACK/
// SESSION NUMBER (2..5), ALLOCATION LENGTH (7..8). OPEN (byte 1 bit 2) concerns open tracks of
// recordable media: outside the mask.
export const READ_TRACK_INFORMATION = cdb({
  op: Op.READ_TRACK_INFORMATION, name: 'READ TRACK INFORMATION', size: 10, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_TRACK_INFORMATION, 0x03, ...FF4, 0x00, 0xff, 0xff, CONTROL],
  fields: { addressNumberType: bits(1, 0, 2), address: be32(2), allocationLength: be16(7) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 MECHANISM STATUS: ALLOCATION LENGTH (8..9).
export const MECHANISM_STATUS = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.MECHANISM_STATUS, name: 'MECHANISM STATUS', size: 12, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.MECHANISM_STATUS, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, CONTROL],
  fields: { allocationLength: be16(8) },
  xfer: f => f.allocationLength, resv: ResvClass.ALLOWED, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 SET CD SPEED: ROTATIONAL CONTROL (byte 1 bits 1..0), LOGICAL UNIT READ SPEED (2..3),
// LOGICAL UNIT WRITE SPEED (4..5), in kB/s (FFFFh: the fastest).
export const SET_CD_SPEED = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.SET_CD_SPEED, name: 'SET CD SPEED', size: 12, dir: Dir.NONE, types: DT.CDROM,
  usage: [Op.SET_CD_SPEED, 0x03, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: { rotationalControl: bits(1, 0, 2), readSpeed: be16(2), writeSpeed: be16(4) },
  resv: ResvClass.CONFLICTS, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 GET PERFORMANCE: DATA TYPE (byte 1 bits 4..0), STARTING LBA (2..5), MAXIMUM NUMBER OF
// DESCRIPTORS (8..9), TYPE (byte 10). No allocation length: the transfer is the 8-byte header and
// that many 16-byte descriptors (every TYPE this drive answers has 16-byte descriptors).
export const GET_PERFORMANCE = cdb({
  op: Op.GET_PERFORMANCE, name: 'GET PERFORMANCE', size: 12, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.GET_PERFORMANCE, 0x1f, ...FF4, 0x00, 0x00, 0xff, 0xff, 0xff, CONTROL],
  fields: { dataType: bits(1, 0, 5), startingLba: be32(2), maximumNumberOfDescriptors: be16(8), type: u8(10) },
  xfer: f => 8 + 16 * f.maximumNumberOfDescriptors, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});

// MMC-6 READ DISC STRUCTURE: MEDIA TYPE (byte 1 bits 3..0), ADDRESS (2..5, for structures this
// drive does not have), LAYER NUMBER (6), FORMAT (7), ALLOCATION LENGTH (8..9). AGID (byte 10
// bits 7..6) belongs to the CSS/CPPM structures, which are not claimed: outside the mask.
export const READ_DISC_STRUCTURE = cdb({
  op: Op.READ_DISC_STRUCTURE, name: 'READ DISC STRUCTURE', size: 12, dir: Dir.IN, types: DT.CDROM,
  usage: [Op.READ_DISC_STRUCTURE, 0x0f, ...FF4, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { mediaType: bits(1, 0, 4), address: be32(2), layerNumber: u8(6), format: u8(7), allocationLength: be16(8) },
  xfer: f => f.allocationLength, resv: ResvClass.READ, timeouts: REPORT_TIMEOUTS,
});
