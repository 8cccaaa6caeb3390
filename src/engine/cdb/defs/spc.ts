import { MaintIn, Op } from '../../spec/opcodes';
import { AluaClass, CONTROL, DT, Dir, ReadyClass, ResvClass, be16, be32, bit, bits, cdb, u8 } from '../dsl';

/**
 * SPC-4 rows owned by the SPC command set: INQUIRY, MODE SENSE/SELECT, LOG SENSE/SELECT and the
 * two MAINTENANCE IN reports. Each usage mask lists exactly the bits the device server reads
 * (SPC-4 6.35.3); a bit outside it is rejected by the table with INVALID FIELD IN CDB.
 *
 * Reservation classes follow SPC-4 5.13 table 66 (commands allowed in the presence of persistent
 * reservations) and SPC-2 5.5.1 for RESERVE(6)/(10): INQUIRY, LOG SENSE and the MAINTENANCE IN
 * reports are allowed; MODE SENSE, MODE SELECT and LOG SELECT conflict.
 */

// SPC-4 6.6.1 table 142: byte 1 bit 1 CMDDT is obsolete and left out of the mask, so a CMDDT of one
// is INVALID FIELD IN CDB at byte 1 bit 1; bytes 3..4 are the 16-bit ALLOCATION LENGTH.
export const INQUIRY = cdb({
  ready: ReadyClass.SANITIZING, alua: AluaClass.TRANSITIONING,
  op: Op.INQUIRY, name: 'INQUIRY', size: 6, dir: Dir.IN, types: DT.ALL,
  usage: [Op.INQUIRY, 0x01, 0xff, 0xff, 0xff, CONTROL],
  fields: { evpd: bit(1, 0), pageCode: u8(2), allocationLength: be16(3) },
  xfer: f => f.allocationLength,
  // SPC-4 5.14: INQUIRY neither reports nor clears a unit attention.
  skipsUa: true,
  // SCST runs INQUIRY as implicit HEAD OF QUEUE: initiators probe with it while I/O is queued.
  implicitHeadOfQueue: true,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 10],
});

// SPC-4 6.11 table 162: byte 1 DBD (bit 3), no LLBAA (MODE SENSE(6) has only short descriptors); byte 2 PC (7..6) and PAGE CODE (5..0); byte 3
// SUBPAGE CODE; byte 4 ALLOCATION LENGTH.
export const MODE_SENSE_6 = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MODE_SENSE_6, name: 'MODE SENSE(6)', size: 6, dir: Dir.IN, types: DT.ALL,
  usage: [Op.MODE_SENSE_6, 0x08, 0xff, 0xff, 0xff, CONTROL],
  fields: { dbd: bit(1, 3), pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: u8(3), allocationLength: u8(4) },
  xfer: f => f.allocationLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 10],
});

// SPC-4 6.12 table 170: byte 1 LLBAA (bit 4) and DBD (bit 3); bytes 7..8 ALLOCATION LENGTH.
export const MODE_SENSE_10 = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MODE_SENSE_10, name: 'MODE SENSE(10)', size: 10, dir: Dir.IN, types: DT.ALL,
  usage: [Op.MODE_SENSE_10, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { dbd: bit(1, 3), llbaa: bit(1, 4), pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: u8(3), allocationLength: be16(7) },
  xfer: f => f.allocationLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 10],
});

// SPC-4 6.9 table 158: byte 1 PF (bit 4) and SP (bit 0). No page is saveable, so SP is outside the
// mask: SPC-4 6.9.1 wants INVALID FIELD IN CDB for SP=1 when saved pages are not implemented.
export const MODE_SELECT_6 = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MODE_SELECT_6, name: 'MODE SELECT(6)', size: 6, dir: Dir.OUT, types: DT.ALL,
  usage: [Op.MODE_SELECT_6, 0x10, 0x00, 0x00, 0xff, CONTROL],
  fields: { pf: bit(1, 4), parameterListLength: u8(4) },
  xfer: f => f.parameterListLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 30],
});

// SPC-4 6.10 table 160: as MODE SELECT(6) with a 16-bit PARAMETER LIST LENGTH at bytes 7..8.
export const MODE_SELECT_10 = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MODE_SELECT_10, name: 'MODE SELECT(10)', size: 10, dir: Dir.OUT, types: DT.ALL,
  usage: [Op.MODE_SELECT_10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { pf: bit(1, 4), parameterListLength: be16(7) },
  xfer: f => f.parameterListLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 30],
});

// SPC-4 6.8 table 151: byte 1 PPC (bit 1) and SP (bit 0) are outside the mask (no parameter
// change tracking, no saved log parameters: INVALID FIELD IN CDB); byte 2 PC and PAGE CODE;
// byte 3 SUBPAGE CODE; bytes 5..6 PARAMETER POINTER; bytes 7..8 ALLOCATION LENGTH.
export const LOG_SENSE = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.LOG_SENSE, name: 'LOG SENSE', size: 10, dir: Dir.IN, types: DT.ALL,
  usage: [Op.LOG_SENSE, 0x00, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, CONTROL],
  fields: { pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: u8(3), parameterPointer: be16(5), allocationLength: be16(7) },
  xfer: f => f.allocationLength,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 10],
});

// SPC-4 6.7 table 147: byte 1 PCR (bit 1); SP (bit 0) is outside the mask (nothing is saveable);
// byte 2 PC and PAGE CODE; byte 3 SUBPAGE CODE; bytes 7..8 PARAMETER LIST LENGTH.
export const LOG_SELECT = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.LOG_SELECT, name: 'LOG SELECT', size: 10, dir: Dir.OUT, types: DT.ALL,
  usage: [Op.LOG_SELECT, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
  fields: { pcr: bit(1, 1), pc: bits(2, 6, 2), pageCode: bits(2, 0, 6), subpageCode: u8(3), parameterListLength: be16(7) },
  xfer: f => f.parameterListLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 10],
});

// SPC-4 6.35.1 table 256: byte 2 RCTD (bit 7) and REPORTING OPTIONS (2..0); byte 3 REQUESTED
// OPERATION CODE; bytes 4..5 REQUESTED SERVICE ACTION; bytes 6..9 ALLOCATION LENGTH.
export const REPORT_SUPPORTED_OPERATION_CODES = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MAINTENANCE_IN, sa: MaintIn.REPORT_SUPPORTED_OPERATION_CODES,
  name: 'REPORT SUPPORTED OPERATION CODES', size: 12, dir: Dir.IN, types: DT.ALL,
  usage: [Op.MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { rctd: bit(2, 7), reportingOptions: bits(2, 0, 3), requestedOperationCode: u8(3), requestedServiceAction: be16(4), allocationLength: be32(6) },
  xfer: f => f.allocationLength,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 10],
});

// SPC-4 6.36.1 table 264: byte 2 REPD (bit 7); bytes 6..9 ALLOCATION LENGTH.
export const REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.STANDBY,
  op: Op.MAINTENANCE_IN, sa: MaintIn.REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS,
  name: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS', size: 12, dir: Dir.IN, types: DT.ALL,
  usage: [Op.MAINTENANCE_IN, 0x1f, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { repd: bit(2, 7), allocationLength: be32(6) },
  xfer: f => f.allocationLength,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 10],
});
