// RFC 7143 6.3 / 3.2.2: the full feature phase of one connection. It holds the session-side
// state that the phase needs (StatSN, the session's CmdSN window, the task table, the negotiated
// parameters) and hands each initiator PDU to the module of its kind: SCSI Command and Data-Out
// (scsi-command.ts), completions as Data-In and SCSI Response (data-in.ts), NOP (nop.ts), Task
// Management (tmf.ts), Text (text-request.ts), Logout (logout.ts), Asynchronous Messages
// (async.ts) and Reject (reject.ts). What it may do to the connection (close it, drop it) goes
// through ConnectionHost (phase-context.ts).
import type { ConnectionLog } from './connection-context';
import type { ConnectionHost, PhaseContext } from './phase-context';
import {
  DecodeResult, InitiatorPdu, LogoutRequest, TaskMgmtRequest, decodeDataOutInto, decodeInitiatorPdu, decodeScsiCommandInto, newDataOut, newScsiCommand,
} from './initiator-pdu';
import type { SeqFields } from './target-pdu';
import { IscsiOp, RejectReason } from './spec';
import type { OperationalParams } from './negotiate';
import type { IscsiSession } from './session';
import type { PduOutput } from './pdu-output';
import { tagAllocator } from './r2t';
import { ScsiCommandPath, Task } from './scsi-command';
import { DataInSender } from './data-in';
import { NopResponder } from './nop';
import { runTaskMgmtRequest } from './tmf';
import { TextResponder } from './text-request';
import { runLogoutRequest } from './logout';
import { sendLogoutRequest, sendScsiEvent } from './async';
import { queueReject } from './reject';

export class FullFeaturePhase implements PhaseContext {
  /** RFC 7143 4.2.2.2: the next StatSN. */
  statSN: number;
  readonly commands: ScsiCommandPath;
  readonly dataIn: DataInSender;
  private readonly nop: NopResponder;
  private readonly text: TextResponder;
  /** Target Transfer Tags for R2Ts, NOP-In pings and long Text answers. */
  readonly allocTtt = tagAllocator(0x100);
  /** Filled by decodeScsiCommandInto for each SCSI Command; valid until the next PDU. */
  private readonly cmdView = newScsiCommand();
  private readonly runTmf = (p: TaskMgmtRequest): void => runTaskMgmtRequest(this, p);
  private readonly runLogout = (p: LogoutRequest): void => runLogoutRequest(this, p);
  /** Filled by decodeDataOutInto for each SCSI Data-Out; valid until the next PDU. */
  private readonly dataOutView = newDataOut();

  constructor(
    readonly host: ConnectionHost,
    readonly out: PduOutput,
    readonly session: IscsiSession,
    readonly params: OperationalParams,
    statSN: number,
    /** RFC 7143 11.14.3: this connection's CID. */
    readonly cid: number,
  ) {
    this.statSN = statSN >>> 0;
    this.commands = new ScsiCommandPath(this);
    this.dataIn = new DataInSender(this);
    this.nop = new NopResponder(this);
    this.text = new TextResponder(this);
  }

  get log(): ConnectionLog {
    return this.host.ctx.log;
  }

  get remote(): string {
    return this.host.remote;
  }

  /** RFC 7143 7.1.3: the phase begins; an idle initiator is pinged from now on. */
  start(): void {
    this.nop.startPinger();
  }

  /** One initiator PDU of this phase. */
  receive(header: Buffer, data: Buffer): void {
    // The hot path: a well-formed SCSI Command or Data-Out decoded into the phase's reusable objects.
    if (decodeScsiCommandInto(header, data, this.cmdView)) {
      this.commands.onCommand(this.cmdView, header);
      return;
    }
    if (decodeDataOutInto(header, data, this.dataOutView)) {
      this.commands.onDataOut(this.dataOutView, header);
      return;
    }
    const d: DecodeResult = decodeInitiatorPdu(header, data);
    if (!d.ok) {
      this.log.warn({ remote: this.remote, detail: d.detail }, 'malformed PDU');
      if (d.reason === 'protocol-error') {
        this.host.closeAfterFlush(d.detail);
        return;
      }
      this.reject(d.reason, header);
      // RFC 7143 7.8 / 6.2: at ERL 0 a protocol error ends the connection.
      if (d.reason === RejectReason.PROTOCOL_ERROR) this.host.closeAfterFlush(d.detail);
      return;
    }
    this.dispatch(d.pdu, header);
  }

  private dispatch(p: InitiatorPdu, header: Buffer): void {
    switch (p.op) {
      case IscsiOp.SCSI_COMMAND:
        return this.commands.onCommand(p, header);
      case IscsiOp.SCSI_DATA_OUT:
        return this.commands.onDataOut(p, header);
      case IscsiOp.NOP_OUT:
        return this.nop.onNopOut(p);
      case IscsiOp.TASK_MGMT_REQ:
        this.ordered(p.cmdSN, p.immediate, this.runTmf, p);
        return;
      case IscsiOp.TEXT_REQ:
        return this.text.onTextRequest(p, header);
      case IscsiOp.LOGOUT_REQ:
        this.ordered(p.cmdSN, p.immediate, this.runLogout, p);
        return;
      case IscsiOp.LOGIN_REQ:
        // RFC 7143 6.3: a Login Request in the full feature phase is a protocol error.
        this.reject(RejectReason.PROTOCOL_ERROR, header);
        this.host.closeAfterFlush('login request in full feature phase');
        return;
      case IscsiOp.SNACK_REQ:
        // RFC 7143 11.16: no SNACK support at ERL 0.
        this.reject(RejectReason.SNACK_REJECT, header);
        return;
    }
  }

  /** Framer hook: where a data segment spanning socket chunks is assembled. */
  landing(length: number, header: Buffer): Buffer {
    return this.commands.landing(length, header);
  }

  /**
   * Order a non-immediate request through the CmdSN window (RFC 7143 3.2.2.1); immediate ones
   * run now. `run(arg)` is a function made once per connection, `arg` the request: no closure
   * per request. Returns false when the request was outside the window and silently dropped.
   */
  ordered<T>(cmdSN: number, immediate: boolean, run: (arg: T) => void, arg: T): boolean {
    const w = this.session.window;
    if (w.admit(cmdSN, immediate) === 'drop') {
      this.log.debug({ cmdSN, expCmdSN: w.expCmdSN, maxCmdSN: w.maxCmdSN }, 'CmdSN outside the window, dropped');
      return false;
    }
    if (immediate) run(arg);
    else w.enqueue(cmdSN, true, run, arg);
    return true;
  }

  /** A non-immediate request is answered: the window slides. */
  finishedCommand(immediate: boolean): void {
    if (!immediate) this.session.window.finished();
  }

  /** StatSN, ExpCmdSN, MaxCmdSN for a PDU that does not carry status. */
  seq(): SeqFields {
    const f: SeqFields = { statSN: 0, expCmdSN: 0, maxCmdSN: 0 };
    this.stampSeq(f, false);
    return f;
  }

  /** Same, consuming a StatSN (RFC 7143 4.2.2.2: status-bearing PDUs). */
  nextSeq(): SeqFields {
    const f = this.seq();
    this.statSN = (this.statSN + 1) >>> 0;
    return f;
  }

  /**
   * StatSN, ExpCmdSN and MaxCmdSN into `f` (a PDU's fields object, reused per PDU on the data
   * path); `consume`: the PDU carries status and takes the StatSN (RFC 7143 4.2.2.2).
   */
  stampSeq(f: SeqFields, consume: boolean): void {
    const w = this.session.window;
    f.statSN = this.statSN;
    f.expCmdSN = w.expCmdSN;
    f.maxCmdSN = w.maxCmdSN;
    if (consume) this.statSN = (this.statSN + 1) >>> 0;
  }

  reject(reason: RejectReason, header: Uint8Array): void {
    queueReject(this.out, this.nextSeq(), reason, header);
  }

  protocolError(reason: string, header: Buffer): void {
    this.log.warn({ remote: this.remote, reason }, 'protocol error; closing the connection');
    this.reject(RejectReason.PROTOCOL_ERROR, header);
    this.host.closeAfterFlush(reason);
  }

  /** RFC 7143 11.9.1: ask the initiator to log out (daemon shutdown). */
  requestLogout(seconds: number): void {
    sendLogoutRequest(this, seconds);
  }

  /** RFC 7143 11.9.1 AsyncEvent 0: a unit attention reported without waiting for a command. */
  reportScsiEvent(lun: number, sense: Uint8Array): void {
    sendScsiEvent(this, lun, sense);
  }

  /** RFC 7143 11.14: the session ends by logout; its tasks go, the connection closes after the answer. */
  endByLogout(): void {
    const s = this.session;
    const { ctx } = this.host;
    this.host.beginClosing();
    this.nop.stopPinger();
    const gone = this.commands.abortAll();
    ctx.sessions.remove(s);
    s.connection = undefined;
    ctx.log.info({ remote: this.remote, initiator: s.id.initiatorName, tsih: s.id.tsih }, 'logout');
    void s.end('logout').catch((err: unknown) => ctx.log.error({ err }, 'closing the session failed'));
    this.commands.failData(gone);
    this.host.closeAfterFlush('logout');
  }

  /** The pinger stops (the connection is closing). */
  stop(): void {
    this.nop.stopPinger();
  }

  /** The connection is gone: every task is aborted here; returns them for failData(). */
  end(): Task[] {
    this.nop.stopPinger();
    this.text.clear();
    return this.commands.abortAll();
  }
}
