import { MaintIn, MaintOut, Op } from '../../spec/opcodes';
import { AluaClass, CONTROL, DT, Dir, ReadyClass, ResvClass, be32, bits, cdb } from '../dsl';

/**
 * The target port group commands (SPC-4 5.16): REPORT TARGET PORT GROUPS (MAINTENANCE IN, service
 * action 0Ah) and SET TARGET PORT GROUPS (MAINTENANCE OUT, service action 0Ah). Both are allowed
 * under every reservation (SPC-4 5.13 table 66 lists them as allowed: a multipath initiator must
 * see and set the paths of a reserved unit) and with no medium.
 */

// SPC-4 6.37 table 266: byte 1 PARAMETER DATA FORMAT (7..5) and SERVICE ACTION; bytes 6..9
// ALLOCATION LENGTH.
export const REPORT_TARGET_PORT_GROUPS = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.TRANSITIONING,
  op: Op.MAINTENANCE_IN, sa: MaintIn.REPORT_TARGET_PORT_GROUPS,
  name: 'REPORT TARGET PORT GROUPS', size: 12, dir: Dir.IN, types: DT.ALL,
  usage: [Op.MAINTENANCE_IN, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { parameterDataFormat: bits(1, 5, 3), allocationLength: be32(6) },
  xfer: f => f.allocationLength,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 5],
});

// SPC-4 6.46 table 321: bytes 6..9 PARAMETER LIST LENGTH.
export const SET_TARGET_PORT_GROUPS = cdb({
  ready: ReadyClass.NO_MEDIUM, alua: AluaClass.UNAVAILABLE,
  op: Op.MAINTENANCE_OUT, sa: MaintOut.SET_TARGET_PORT_GROUPS,
  name: 'SET TARGET PORT GROUPS', size: 12, dir: Dir.OUT, types: DT.ALL,
  usage: [Op.MAINTENANCE_OUT, 0x1f, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { parameterListLength: be32(6) },
  xfer: f => f.parameterListLength,
  resv: ResvClass.ALLOWED,
  timeouts: [1, 30],
});
