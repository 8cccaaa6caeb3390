// RFC 7143 11.7 / 11.4: how a completed command goes back to the initiator. Read data is cut
// into Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, with the F bit at the
// end of every MaxBurstLength sequence; GOOD status without sense rides in the last Data-In
// (phase collapse, S bit, residuals); anything else ends with a SCSI Response.
import { Completion, ResidualKind } from '../../engine/command';
import { Status } from '../../engine/spec/status';
import { Residual } from './pdu';

/** The engine numbers residual kinds differently from the wire flags. */
export function wireResidual(kind: ResidualKind): Residual {
  return kind === ResidualKind.OVERFLOW ? Residual.OVERFLOW : kind === ResidualKind.UNDERFLOW ? Residual.UNDERFLOW : Residual.NONE;
}

export interface DataInPlan {
  /** [offset, length, final, withStatus] of each Data-In PDU, in DataSN order. */
  pdus: Array<{ offset: number; length: number; final: boolean; status: boolean }>;
  /** A separate SCSI Response follows (sense data, or a status that may not be collapsed). */
  response: boolean;
}

/**
 * RFC 7143 11.7.4: status may accompany the last Data-In only when the command ended without
 * an exception (GOOD or CONDITION MET) and so carries no sense data.
 */
export function collapsible(c: Completion): boolean {
  return (c.status === Status.GOOD || c.status === Status.CONDITION_MET) && (!c.sense || c.sense.length === 0);
}

export function planDataIn(c: Completion, maxSegment: number, maxBurst: number): DataInPlan {
  const total = c.data?.length ?? 0;
  const collapse = collapsible(c);
  const pdus: DataInPlan['pdus'] = [];
  let offset = 0;
  let inBurst = 0;
  while (offset < total) {
    const length = Math.min(maxSegment, total - offset, maxBurst - inBurst);
    offset += length;
    inBurst += length;
    const last = offset === total;
    // RFC 7143 11.7.1: F ends a Data-In sequence (MaxBurstLength) and the whole transfer.
    const final = last || inBurst === maxBurst;
    if (final) inBurst = 0;
    pdus.push({ offset: offset - length, length, final, status: last && collapse });
  }
  return { pdus, response: !collapse || total === 0 };
}
