import { ExtendedCopySa, Op, ReceiveCopyResultsSa } from '../../spec/opcodes';
import { CONTROL, DT, Dir, FieldMap, ResvClass, be32, cdb, u8 } from '../dsl';

/**
 * SPC-4 third-party copy rows: EXTENDED COPY (LID1) and the RECEIVE COPY RESULTS service actions
 * the copy manager implements. RECEIVE DATA (01h) and FAILED SEGMENT DETAILS (04h) are left out:
 * the copy manager holds no data (HELD DATA LIMIT 0) and keeps no failed-segment sense, so those
 * service actions are INVALID FIELD IN CDB like any unknown one.
 *
 * Both commands conflict with reservations held by another I_T nexus (SPC-4 5.13 table 66).
 */

// SPC-4 6.4.1 table 124 (EXTENDED COPY (LID1)): byte 1 SERVICE ACTION; bytes 2..9 reserved;
// bytes 10..13 PARAMETER LIST LENGTH; byte 14 reserved.
export const EXTENDED_COPY_LID1 = cdb({
  op: Op.EXTENDED_COPY, sa: ExtendedCopySa.LID1, name: 'EXTENDED COPY(LID1)', size: 16, dir: Dir.OUT, types: DT.DISK,
  usage: [Op.EXTENDED_COPY, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields: { parameterListLength: be32(10) },
  xfer: f => f.parameterListLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [30, 600],
});

// SPC-4 6.18.1 table 278 (RECEIVE COPY RESULTS): byte 1 SERVICE ACTION; byte 2 LIST IDENTIFIER;
// bytes 3..9 reserved; bytes 10..13 ALLOCATION LENGTH; byte 14 reserved.
const rcr = <F extends FieldMap>(sa: ReceiveCopyResultsSa, name: string, fields: F) => cdb({
  op: Op.RECEIVE_COPY_RESULTS, sa, name, size: 16, dir: Dir.IN, types: DT.DISK,
  usage: [Op.RECEIVE_COPY_RESULTS, 0x1f, 'listIdentifier' in fields ? 0xff : 0x00, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x00, CONTROL],
  fields,
  xfer: f => (f as { allocationLength: number }).allocationLength,
  resv: ResvClass.CONFLICTS,
  timeouts: [1, 10],
});

/** SPC-4 6.18.3: the status of the EXTENDED COPY with LIST IDENTIFIER from this I_T nexus. */
export const RECEIVE_COPY_STATUS = rcr(ReceiveCopyResultsSa.COPY_STATUS, 'RECEIVE COPY RESULTS(COPY STATUS)',
  { listIdentifier: u8(2), allocationLength: be32(10) });

/**
 * SPC-4 6.18.5: the copy manager's limits. The LIST IDENTIFIER byte is reserved for this service
 * action; initiators send zero, and a non-zero byte is refused by the usage mask.
 */
export const RECEIVE_COPY_OPERATING_PARAMETERS = rcr(ReceiveCopyResultsSa.OPERATING_PARAMETERS, 'RECEIVE COPY RESULTS(OPERATING PARAMETERS)',
  { allocationLength: be32(10) });
