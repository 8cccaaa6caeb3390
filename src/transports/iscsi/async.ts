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

/** RFC 7143 11.9.1: ask the initiator to log out within `seconds` (daemon shutdown). */
export function sendLogoutRequest(ffp: AsyncContext, seconds: number): void {
  const bhs = ffp.out.bhs();
  encodeAsyncMessage(bhs, 0, { ...ffp.nextSeq(), ...logoutRequest(seconds), dataSegmentLength: 0 });
  ffp.out.queue(bhs, EMPTY);
  ffp.out.scheduleFlush();
}
