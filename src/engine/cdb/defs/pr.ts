import { Op, PrInSa, PrOutSa } from '../../spec/opcodes';
import { AluaClass, be16, be32, bits, cdb, CONTROL, Dir, DT, ReadyClass, ResvClass } from '../dsl';

/**
 * PERSISTENT RESERVE IN (5Eh) and PERSISTENT RESERVE OUT (5Fh), one row per service action
 * (SPC-4 6.15, 6.16). A service action without a row (REPLACE LOST RESERVATION) is not
 * supported: the table answers INVALID FIELD IN CDB for it and REPORT SUPPORTED OPERATION CODES
 * does not list it.
 *
 * Both are ResvClass.PERSISTENT_RESERVE: SPC-2 5.5.1 makes every PERSISTENT RESERVE command
 * conflict while a RESERVE(6)/(10) is in effect, whoever holds it; persistent reservations
 * themselves never block them (SPC-4 5.13 table 66).
 */

// SPC-4 6.15.1 table 170: byte 1 SERVICE ACTION; bytes 7..8 ALLOCATION LENGTH.
function prIn(sa: PrInSa, name: string) {
  return cdb({
    op: Op.PERSISTENT_RESERVE_IN, sa, name: `PERSISTENT RESERVE IN / ${name}`, size: 10, dir: Dir.IN, types: DT.ALL,
    usage: [Op.PERSISTENT_RESERVE_IN, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, CONTROL],
    fields: { allocationLength: be16(7) },
    xfer: f => f.allocationLength,
    resv: ResvClass.PERSISTENT_RESERVE,
    // SPC-4 5.12: reservations are managed whatever the medium's state.
    ready: ReadyClass.NO_MEDIUM,
    // SPC-4 5.16.2.4.4: served through a standby target port group too.
    alua: AluaClass.STANDBY,
    timeouts: [1, 5],
  });
}

// SPC-4 6.16.1 table 195: byte 1 SERVICE ACTION; byte 2 SCOPE (7..4) and TYPE (3..0); bytes 5..8
// PARAMETER LIST LENGTH.
/** PERSISTENT RESERVE OUT fields, the same for every service action. */
export const PROUT_FIELDS = { scope: bits(2, 4, 4), type: bits(2, 0, 4), parameterListLength: be32(5) };

function prOut(sa: PrOutSa, name: string) {
  return cdb({
    op: Op.PERSISTENT_RESERVE_OUT, sa, name: `PERSISTENT RESERVE OUT / ${name}`, size: 10, dir: Dir.OUT, types: DT.ALL,
    usage: [Op.PERSISTENT_RESERVE_OUT, 0x1f, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, CONTROL],
    fields: PROUT_FIELDS,
    xfer: f => f.parameterListLength,
    resv: ResvClass.PERSISTENT_RESERVE,
    // SPC-4 5.12: reservations are managed whatever the medium's state.
    ready: ReadyClass.NO_MEDIUM,
    // SPC-4 5.16.2.4.4: served through a standby target port group too.
    alua: AluaClass.STANDBY,
    timeouts: [1, 5],
  });
}

export const PRIN_READ_KEYS = prIn(PrInSa.READ_KEYS, 'READ KEYS');
export const PRIN_READ_RESERVATION = prIn(PrInSa.READ_RESERVATION, 'READ RESERVATION');
export const PRIN_REPORT_CAPABILITIES = prIn(PrInSa.REPORT_CAPABILITIES, 'REPORT CAPABILITIES');
export const PRIN_READ_FULL_STATUS = prIn(PrInSa.READ_FULL_STATUS, 'READ FULL STATUS');

export const PROUT_REGISTER = prOut(PrOutSa.REGISTER, 'REGISTER');
export const PROUT_RESERVE = prOut(PrOutSa.RESERVE, 'RESERVE');
export const PROUT_RELEASE = prOut(PrOutSa.RELEASE, 'RELEASE');
export const PROUT_CLEAR = prOut(PrOutSa.CLEAR, 'CLEAR');
export const PROUT_PREEMPT = prOut(PrOutSa.PREEMPT, 'PREEMPT');
export const PROUT_PREEMPT_AND_ABORT = prOut(PrOutSa.PREEMPT_AND_ABORT, 'PREEMPT AND ABORT');
export const PROUT_REGISTER_AND_IGNORE_EXISTING_KEY = prOut(PrOutSa.REGISTER_AND_IGNORE_EXISTING_KEY, 'REGISTER AND IGNORE EXISTING KEY');
// SPC-4 6.16.4: REGISTER AND MOVE ignores SCOPE and TYPE, but they keep their place in the CDB.
export const PROUT_REGISTER_AND_MOVE = prOut(PrOutSa.REGISTER_AND_MOVE, 'REGISTER AND MOVE');

export const PRIN_ROWS = [PRIN_READ_KEYS, PRIN_READ_RESERVATION, PRIN_REPORT_CAPABILITIES, PRIN_READ_FULL_STATUS];
export const PROUT_ROWS = [
  PROUT_REGISTER, PROUT_RESERVE, PROUT_RELEASE, PROUT_CLEAR, PROUT_PREEMPT, PROUT_PREEMPT_AND_ABORT,
  PROUT_REGISTER_AND_IGNORE_EXISTING_KEY, PROUT_REGISTER_AND_MOVE,
];
