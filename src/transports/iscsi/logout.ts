// RFC 7143 11.14 / 11.15: Logout. With MaxConnections=1 closing the connection closes the
// session; removing a connection for recovery needs ERL 2.
import { LogoutReason, LogoutResponse } from './spec';
import type { LogoutRequest } from './initiator-pdu';
import { encodeLogoutResponse } from './target-pdu';
import type { PhaseContext } from './phase-context';

/** What this module uses of the full feature phase. */
export type LogoutContext = Pick<PhaseContext, 'finishedCommand' | 'params' | 'cid' | 'out' | 'nextSeq' | 'endByLogout'>;

const EMPTY = Buffer.alloc(0);

export interface LogoutDecision {
  response: LogoutResponse;
  /** Whether the session ends (nexus.close('logout')) and the connection closes after the reply. */
  closeSession: boolean;
}

export function decideLogout(reason: LogoutReason, cid: number, ourCid: number): LogoutDecision {
  switch (reason) {
    case LogoutReason.CLOSE_SESSION:
      return { response: LogoutResponse.CLOSED_SUCCESSFULLY, closeSession: true };
    case LogoutReason.CLOSE_CONNECTION:
      // RFC 7143 11.15.1: a CID this session does not have.
      if (cid !== ourCid) return { response: LogoutResponse.CID_NOT_FOUND, closeSession: false };
      return { response: LogoutResponse.CLOSED_SUCCESSFULLY, closeSession: true };
    default:
      return { response: LogoutResponse.CONNECTION_RECOVERY_NOT_SUPPORTED, closeSession: false };
  }
}

/** RFC 7143 11.14: a Logout Request in its CmdSN turn; the answer goes out before the session ends. */
export function runLogoutRequest(ffp: LogoutContext, p: LogoutRequest): void {
  ffp.finishedCommand(p.immediate);
  const prm = ffp.params;
  const d = decideLogout(p.reasonCode, p.cid, ffp.cid);
  const bhs = ffp.out.bhs();
  encodeLogoutResponse(bhs, 0, {
    ...ffp.nextSeq(), itt: p.itt, response: d.response, time2Wait: prm.defaultTime2Wait, time2Retain: prm.defaultTime2Retain,
  });
  ffp.out.queue(bhs, EMPTY);
  if (d.closeSession) ffp.endByLogout();
}
