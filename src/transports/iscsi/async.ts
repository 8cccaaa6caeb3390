// RFC 7143 11.9: Asynchronous Messages the target sends on its own.
import { AsyncEvent } from './spec';
import { AsyncMessageFields, encodeAsyncMessage } from './target-pdu';
import type { PhaseContext } from './phase-context';

/** What this module uses of the full feature phase. */
export type AsyncContext = Pick<PhaseContext, 'out' | 'nextSeq'>;

const EMPTY = Buffer.alloc(0);

/**
 * RFC 7143 11.9.1 AsyncEvent 1: the target asks the initiator to log out; Parameter3 is the
 * time in seconds the initiator has before the target drops the connection.
 */
export function logoutRequest(seconds: number): Omit<AsyncMessageFields, 'statSN' | 'expCmdSN' | 'maxCmdSN' | 'dataSegmentLength'> {
  return { lun: 0, event: AsyncEvent.LOGOUT_REQUESTED, parameter3: Math.max(0, Math.min(0xffff, Math.ceil(seconds))) };
}

/**
 * RFC 7143 11.9.1 AsyncEvent 0 (SCSI Async Event), 11.9.4: a unit attention the initiator should
 * hear of now. The data segment is SenseLength (2 bytes) then the sense data, no iSCSI event data.
 * The Linux initiator's iscsid rescans the session's LUNs on REPORTED LUNS DATA HAS CHANGED and
 * ignores the others; libiscsi logs and ignores every one, so the condition also stays queued for
 * the next command (ua.ts ANNOUNCED_CONDITIONS).
 */
export function sendScsiEvent(ffp: AsyncContext, lun: number, sense: Uint8Array): void {
  const data = Buffer.alloc(2 + sense.length);
  data.writeUInt16BE(sense.length, 0);
  data.set(sense, 2);
  const bhs = ffp.out.bhs();
  encodeAsyncMessage(bhs, 0, { ...ffp.nextSeq(), lun, event: AsyncEvent.SCSI_ASYNC_EVENT, dataSegmentLength: data.length });
  ffp.out.queue(bhs, data);
  ffp.out.scheduleFlush();
}

/** RFC 7143 11.9.1: ask the initiator to log out within `seconds` (daemon shutdown). */
export function sendLogoutRequest(ffp: AsyncContext, seconds: number): void {
  const bhs = ffp.out.bhs();
  encodeAsyncMessage(bhs, 0, { ...ffp.nextSeq(), ...logoutRequest(seconds), dataSegmentLength: 0 });
  ffp.out.queue(bhs, EMPTY);
  ffp.out.scheduleFlush();
}
