// RFC 7143 11.14 / 11.15: Logout. With MaxConnections=1 closing the connection closes the
// session; removing a connection for recovery needs ERL 2.
import { LogoutReason, LogoutResponse } from './spec';

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
