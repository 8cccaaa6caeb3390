// RFC 7143 11.9: Asynchronous Messages the target sends on its own.
import { AsyncEvent } from './spec';
import { AsyncMessageFields } from './pdu';

/**
 * RFC 7143 11.9.1 AsyncEvent 1: the target asks the initiator to log out; Parameter3 is the
 * time in seconds the initiator has before the target drops the connection.
 */
export function logoutRequest(seconds: number): Omit<AsyncMessageFields, 'statSN' | 'expCmdSN' | 'maxCmdSN' | 'dataSegmentLength'> {
  return { lun: 0, event: AsyncEvent.LOGOUT_REQUESTED, parameter3: Math.max(0, Math.min(0xffff, Math.ceil(seconds))) };
}
