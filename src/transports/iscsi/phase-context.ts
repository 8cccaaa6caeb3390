// RFC 7143 3.2.2 / 4.2.2.2: what the module of each PDU kind (scsi-command.ts, data-in.ts, nop.ts,
// tmf.ts, text-request.ts, logout.ts, async.ts) may use of the full feature phase that hands it
// its PDUs: the sequence numbers, the CmdSN window, the output, the negotiated parameters and the
// connection it runs on. full-feature.ts implements it; each module names the part it uses
// (`Pick<PhaseContext, …>`), so no module depends on the phase that imports it.
import type { ConnectionContext, ConnectionLog } from './connection-context';
import type { SeqFields } from './target-pdu';
import type { RejectReason } from './spec';
import type { OperationalParams } from './negotiate';
import type { IscsiSession } from './session';
import type { PduOutput } from './pdu-output';

/** What the full feature phase needs of the connection that carries it. */
export interface ConnectionHost {
  readonly ctx: ConnectionContext;
  readonly remote: string;
  /** Still in the full feature phase (not closing, not closed). */
  readonly isFullFeature: boolean;
  /** Write what is queued, then close. */
  closeAfterFlush(reason: string): void;
  /** Drop the connection now. */
  destroy(reason: string): void;
  /** A bug surfaced while handling input or a completion: the connection goes. */
  fault(e: unknown): void;
  /** The session ends by logout: input is ignored from now on. */
  beginClosing(): void;
}

export interface PhaseContext {
  /** RFC 7143 4.2.2.2: the next StatSN. */
  statSN: number;
  readonly host: ConnectionHost;
  readonly out: PduOutput;
  readonly session: IscsiSession;
  readonly params: OperationalParams;
  /** RFC 7143 11.14.3: this connection's CID. */
  readonly cid: number;
  readonly log: ConnectionLog;
  readonly remote: string;
  /** Target Transfer Tags for R2Ts, NOP-In pings and long Text answers. */
  readonly allocTtt: () => number;
  /**
   * Order a non-immediate request through the CmdSN window (RFC 7143 3.2.2.1); immediate ones
   * run now. Returns false when the request was outside the window and silently dropped.
   */
  ordered<T>(cmdSN: number, immediate: boolean, run: (arg: T) => void, arg: T): boolean;
  /** A non-immediate request is answered: the window slides. */
  finishedCommand(immediate: boolean): void;
  /** StatSN, ExpCmdSN, MaxCmdSN for a PDU that does not carry status. */
  seq(): SeqFields;
  /** Same, consuming a StatSN (RFC 7143 4.2.2.2: status-bearing PDUs). */
  nextSeq(): SeqFields;
  /** StatSN, ExpCmdSN and MaxCmdSN into `f`; `consume`: the PDU carries status and takes the StatSN. */
  stampSeq(f: SeqFields, consume: boolean): void;
  reject(reason: RejectReason, header: Uint8Array): void;
  /** Reject with PROTOCOL ERROR, then close (RFC 7143 7.8 at ERL 0). */
  protocolError(reason: string, header: Buffer): void;
  /** RFC 7143 11.14: the session ends by logout. */
  endByLogout(): void;
}
