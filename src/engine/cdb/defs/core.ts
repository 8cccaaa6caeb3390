import { Op } from '../../spec/opcodes';
import { AluaClass, be32, bit, cdb, CONTROL, Dir, DT, ReadyClass, ResvClass, u8 } from '../dsl';

/**
 * Rows the engine core executes itself (they act on nexus, UA and reservation state rather than on
 * a device's medium): TEST UNIT READY, REQUEST SENSE, REPORT LUNS, RESERVE and RELEASE.
 */

// SPC-4 6.37
export const TEST_UNIT_READY = cdb({
  op: Op.TEST_UNIT_READY, name: 'TEST UNIT READY', size: 6, dir: Dir.NONE, types: DT.ALL,
  usage: [Op.TEST_UNIT_READY, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {}, resv: ResvClass.SPC2_ONLY, timeouts: [1, 5],
});

// SPC-4 6.39: DESC selects the sense format of the returned data.
export const REQUEST_SENSE = cdb({
  ready: ReadyClass.SANITIZING, alua: AluaClass.TRANSITIONING,
  op: Op.REQUEST_SENSE, name: 'REQUEST SENSE', size: 6, dir: Dir.IN, types: DT.ALL,
  usage: [Op.REQUEST_SENSE, 0x01, 0x00, 0x00, 0xff, CONTROL],
  fields: { desc: bit(1, 0), allocationLength: u8(4) },
  xfer: f => f.allocationLength, skipsUa: true, implicitHeadOfQueue: true, resv: ResvClass.ALLOWED,
  timeouts: [1, 5],
});

// SPC-4 6.33
export const REPORT_LUNS = cdb({
  ready: ReadyClass.SANITIZING, alua: AluaClass.TRANSITIONING,
  op: Op.REPORT_LUNS, name: 'REPORT LUNS', size: 12, dir: Dir.IN, types: DT.ALL,
  usage: [Op.REPORT_LUNS, 0x00, 0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { selectReport: u8(2), allocationLength: be32(6) },
  xfer: f => f.allocationLength, skipsUa: true, implicitHeadOfQueue: true, resv: ResvClass.ALLOWED,
  timeouts: [1, 5],
});

// SPC-2 7.21 (RESERVE(6)): third-party and extent reservations are obsolete; only bit 0 byte 1 of
// the extent form and the third-party fields remain as reserved here.
export const RESERVE_6 = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.RESERVE_6, name: 'RESERVE(6)', size: 6, dir: Dir.NONE, types: DT.ALL,
  usage: [Op.RESERVE_6, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {}, resv: ResvClass.RESERVE, timeouts: [1, 5],
});

export const RELEASE_6 = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.RELEASE_6, name: 'RELEASE(6)', size: 6, dir: Dir.NONE, types: DT.ALL,
  usage: [Op.RELEASE_6, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {}, resv: ResvClass.RELEASE, timeouts: [1, 5],
});

// SPC-2 7.22 (RESERVE(10)): 3RDPTY and LONGID are not supported and so not in the usage mask;
// without them PARAMETER LIST LENGTH (bytes 7..8) must be zero, so it is not examined either.
export const RESERVE_10 = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.RESERVE_10, name: 'RESERVE(10)', size: 10, dir: Dir.NONE, types: DT.ALL,
  usage: [Op.RESERVE_10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {}, resv: ResvClass.RESERVE, timeouts: [1, 5],
});

export const RELEASE_10 = cdb({
  ready: ReadyClass.NO_MEDIUM,
  op: Op.RELEASE_10, name: 'RELEASE(10)', size: 10, dir: Dir.NONE, types: DT.ALL,
  usage: [Op.RELEASE_10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, CONTROL],
  fields: {}, resv: ResvClass.RELEASE, timeouts: [1, 5],
});

export const CORE_ROWS = [TEST_UNIT_READY, REQUEST_SENSE, REPORT_LUNS, RESERVE_6, RELEASE_6, RESERVE_10, RELEASE_10];
