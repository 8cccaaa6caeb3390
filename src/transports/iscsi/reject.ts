// RFC 7143 11.17: Reject. The target refuses a PDU it cannot (or may not) act on; the data
// segment carries the rejected PDU's BHS so the initiator can tell which one it was.
import { encodeReject, SeqFields } from './target-pdu';
import { BHS_LENGTH, RejectReason } from './spec';
import type { PduOutput } from './pdu-output';

/** Queue a Reject of the PDU whose header is `header`, numbered with `seq` (a StatSN consumed). */
export function queueReject(out: PduOutput, seq: SeqFields, reason: RejectReason, header: Uint8Array): void {
  const bhs = out.bhs();
  // RFC 7143 11.17: the data segment is the rejected PDU's BHS.
  const rejected = out.scratchBytes(BHS_LENGTH).fill(0);
  rejected.set(header.subarray(0, BHS_LENGTH));
  encodeReject(bhs, 0, { ...seq, reason, dataSegmentLength: rejected.length });
  out.queue(bhs, rejected);
}
