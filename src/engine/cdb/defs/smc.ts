import { Op } from '../../spec/opcodes';
import { be16, be24, bit, bits, cdb, CONTROL, Dir, DT, ReadyClass, ResvClass } from '../dsl';

/**
 * SMC-3 command rows for medium changers (peripheral device type 08h). The SPC-4 rows a changer
 * shares with every device (INQUIRY, MODE SENSE/SELECT, LOG SENSE, RSOC, TEST UNIT READY,
 * REQUEST SENSE, REPORT LUNS, RESERVE/RELEASE, PERSISTENT RESERVE) come from their own
 * definitions. Usage masks list exactly the bits the device server examines (SPC-4 6.35.3): the
 * library has one medium transport that does not rotate media, so INVERT is outside every mask
 * and a one there is INVALID FIELD IN CDB.
 *
 * A changer has no medium of its own: every row is served with no medium (ReadyClass.NO_MEDIUM).
 * Reservation classes: the commands that move media or change the changer's state CONFLICTS,
 * READ ELEMENT STATUS (a report) READ.
 */

const MOVE_TIMEOUTS = [60, 300] as const;
/**
 * Byte 1 bits 7..5: the LOGICAL UNIT NUMBER of SCSI-2 CDBs, reserved since SPC. mtx still puts
 * the changer's LUN there in every CDB it sends (SMC-1 era), so the device server ignores them
 * rather than refusing the command with INVALID FIELD IN CDB.
 */
const SCSI2_LUN = 0xe0;

// SMC-3 6.2 INITIALIZE ELEMENT STATUS: every byte but the opcode and CONTROL is reserved.
export const INITIALIZE_ELEMENT_STATUS = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.INITIALIZE_ELEMENT_STATUS, name: 'INITIALIZE ELEMENT STATUS', size: 6, dir: Dir.NONE, types: DT.CHANGER,
  usage: [Op.INITIALIZE_ELEMENT_STATUS, SCSI2_LUN, 0x00, 0x00, 0x00, CONTROL],
  fields: {},
  resv: ResvClass.CONFLICTS, timeouts: MOVE_TIMEOUTS,
});

// SMC-3 6.3 INITIALIZE ELEMENT STATUS WITH RANGE: byte 1 FAST (bit 1) and RANGE (bit 0),
// STARTING ELEMENT ADDRESS (2..3), NUMBER OF ELEMENTS (6..7).
export const INITIALIZE_ELEMENT_STATUS_WITH_RANGE = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.INITIALIZE_ELEMENT_STATUS_WITH_RANGE, name: 'INITIALIZE ELEMENT STATUS WITH RANGE', size: 10, dir: Dir.NONE,
  types: DT.CHANGER,
  usage: [Op.INITIALIZE_ELEMENT_STATUS_WITH_RANGE, SCSI2_LUN | 0x03, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, CONTROL],
  fields: { fast: bit(1, 1), range: bit(1, 0), startingElementAddress: be16(2), numberOfElements: be16(6) },
  resv: ResvClass.CONFLICTS, timeouts: MOVE_TIMEOUTS,
});

// SMC-3 6.6 MOVE MEDIUM: MEDIUM TRANSPORT ADDRESS (2..3), SOURCE ADDRESS (4..5), DESTINATION
// ADDRESS (6..7); byte 10 INVERT (bit 0) is outside the mask (no medium is two-sided here).
export const MOVE_MEDIUM = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.MOVE_MEDIUM, name: 'MOVE MEDIUM', size: 12, dir: Dir.NONE, types: DT.CHANGER,
  usage: [Op.MOVE_MEDIUM, SCSI2_LUN, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, CONTROL],
  fields: { transportElementAddress: be16(2), sourceAddress: be16(4), destinationAddress: be16(6) },
  resv: ResvClass.CONFLICTS, timeouts: MOVE_TIMEOUTS,
});

// SMC-3 6.7 POSITION TO ELEMENT: MEDIUM TRANSPORT ADDRESS (2..3), DESTINATION ELEMENT ADDRESS
// (4..5); byte 8 INVERT (bit 0) outside the mask.
export const POSITION_TO_ELEMENT = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.POSITION_TO_ELEMENT, name: 'POSITION TO ELEMENT', size: 10, dir: Dir.NONE, types: DT.CHANGER,
  usage: [Op.POSITION_TO_ELEMENT, SCSI2_LUN, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, CONTROL],
  fields: { transportElementAddress: be16(2), destinationAddress: be16(4) },
  resv: ResvClass.CONFLICTS, timeouts: MOVE_TIMEOUTS,
});

// SMC-3 6.9 PREVENT ALLOW MEDIUM REMOVAL: byte 4 PREVENT (bit 0) locks the import/export
// elements against the operator; the obsolete PREVENT values 10b/11b (bit 1) are refused.
export const PREVENT_ALLOW_MEDIUM_REMOVAL = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.PREVENT_ALLOW_MEDIUM_REMOVAL, name: 'PREVENT ALLOW MEDIUM REMOVAL', size: 6, dir: Dir.NONE, types: DT.CHANGER,
  usage: [Op.PREVENT_ALLOW_MEDIUM_REMOVAL, SCSI2_LUN, 0x00, 0x00, 0x01, CONTROL],
  fields: { prevent: bit(4, 0) },
  resv: ResvClass.CONFLICTS, timeouts: [1, 5],
});

// SMC-3 6.11 READ ELEMENT STATUS: byte 1 VOLTAG (bit 4) and ELEMENT TYPE CODE (3..0), STARTING
// ELEMENT ADDRESS (2..3), NUMBER OF ELEMENTS (4..5), byte 6 CURDATA (bit 1) and DVCID (bit 0),
// ALLOCATION LENGTH (7..9).
export const READ_ELEMENT_STATUS = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.READ_ELEMENT_STATUS, name: 'READ ELEMENT STATUS', size: 12, dir: Dir.IN, types: DT.CHANGER,
  usage: [Op.READ_ELEMENT_STATUS, SCSI2_LUN | 0x1f, 0xff, 0xff, 0xff, 0xff, 0x03, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: {
    volTag: bit(1, 4), elementTypeCode: bits(1, 0, 4), startingElementAddress: be16(2), numberOfElements: be16(4),
    curData: bit(6, 1), dvcid: bit(6, 0), allocationLength: be24(7),
  },
  xfer: f => f.allocationLength,
  resv: ResvClass.READ, timeouts: [10, 60],
});
