// RFC 7143 3 / 4 / 6 / 7: one iSCSI connection. Bytes come in through the framer; the login
// reducer runs until the full feature phase; then every initiator PDU is dispatched here and
// every target PDU produced while handling one socket chunk (or one batch of completions) goes
// out in one corked write (DESIGN.md §10). ERL 0: any protocol error drops the connection and
// the session with it; a fault never leaves this connection.
import { BLOCK_LIMITS } from '../../engine/vpd';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { EngineApi } from '../../engine/engine-api';
import type { CommandRequest, Completion, CompletionCallback } from '../../engine/command';
import type { IscsiSettings } from '../../engine/topology';
import { TaskAttr } from '../../engine/spec/status';
import { PduFramer, FramerError, DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH } from './framer';
import {
  DataOut, InitiatorPdu, LoginRequest, LogoutRequest, NopOut, Residual, R2TFields, ScsiCommand, ScsiResponseFields, DataInFields, SeqFields, TaskMgmtRequest, TextRequest,
  decodeInitiatorPdu, decodeScsiCommandInto, newScsiCommand, encodeAsyncMessage, encodeDataIn, encodeLoginResponse, encodeLogoutResponse, encodeNopIn, encodeR2T,
  encodeDataInStatus, encodeReject, encodeScsiResponse, encodeSenseSegment, encodeTextResponse, encodeTmfResponse,
} from './pdu';
import { BHS_LENGTH, IscsiOp, RESERVED_TAG, RejectReason, ScsiServiceResponse, TmfResponse } from './spec';
import { paddedLength } from './bhs';
import { dataDigest, headerDigest, writeDigest } from './digest';
import { LoginEffect, LoginPhase, LoginResponse, LoginState, createLoginState, loginStep } from './login';
import { OperationalParams } from './negotiate';
import { TextAccumulator, encodeText, splitText } from './text';
import { maxValueLength } from './keys';
import { IscsiSession, SessionRegistry, isidHex } from './session';
import { checkWriteStart, DataOutBufferPool, DataOutCollector, DataOutErrorKind } from './data-out';
import { R2tRequest, tagAllocator } from './r2t';
import { collapsible, planDataIn, wireResidual } from './data-in';
import { TmfScope, planTmf, wireTmfResponse } from './tmf';
import { NopPinger } from './nop';
import { decideLogout } from './logout';
import { logoutRequest } from './async';
import { DiscoverySource, sendTargets } from './discovery';
import { authFor, negotiationConfig } from './target';
import { inWindow } from './serial';
import { ResponseCoalescer } from './coalesce';
import { BusyPoll, busyPollFor } from '../../workers/busy-poll';
import type { DirectReceiver } from '../../workers/socket-handoff';

export interface ConnectionLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a connection resumes from on an engine thread: the outcome of its login (RFC 7143 values). */
export interface ResumeState {
  targetName: string;
  initiatorName: string;
  /** ISID as 12 hex digits. */
  isid: string;
  tsih: number;
  cid: number;
  tpgt: number;
  /** The next StatSN (the final Login Response used the one before). */
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  params: OperationalParams;
}

export type HandOffOutcome = { ok: true; thread: number } | { ok: false; error: string };

/**
 * The supervisor's side of sessions that run on engine threads (DESIGN.md §3): the login phase
 * stays here, a Normal session's full feature phase moves to a thread with its socket. The login
 * policy asks it about sessions hosted there (RFC 7143 6.3.5 reinstatement, TSIH uniqueness).
 */
export interface FullFeatureHandOff {
  /** TSIH of the hosted session of this initiator port on this target portal group. */
  findSession(initiatorName: string, isid: string, targetName: string, tpgt: number): number | undefined;
  /** Whether a hosted session has `tsih` and belongs to this initiator port. */
  sessionExists(tsih: number, initiatorName: string, isid: string): boolean;
  tsihInUse(tsih: number): boolean;
  /**
   * Reading has stopped at the end of the last Login Request: close the session this one
   * reinstates (when `reinstate`), write `finalResponse`, move the socket to an engine thread.
   */
  handOff(req: {
    socket: Duplex; state: ResumeState; leftover: Uint8Array; finalResponse: Uint8Array; reinstate: boolean;
  }): Promise<HandOffOutcome>;
}

/** What the server gives each connection. */
export interface ConnectionContext {
  engine: EngineApi;
  settings: IscsiSettings;
  sessions: SessionRegistry;
  /** Targets served on the portal this connection came in on (discovery auth, target lookup). */
  portalTargets: readonly string[];
  discovery: DiscoverySource;
  tpgt: number;
  log: ConnectionLog;
  /** Supervisor with engine threads: Normal sessions leave for a thread at the full feature phase. */
  handOff?: FullFeatureHandOff;
  /**
   * Receives bytes already waiting on this connection's socket straight into a buffer
   * (socket-handoff.ts directReceiver): the rest of a large data segment then goes from the
   * kernel into the task's buffer with no copy through the receive buffer.
   */
  receiver?: DirectReceiver;
}

enum Phase {
  LOGIN = 'login',
  /** The login is over and the socket is moving to an engine thread; input is kept for it. */
  HANDING_OFF = 'handing-off',
  FULL_FEATURE = 'full-feature',
  /** A final response is being flushed; input is ignored. */
  CLOSING = 'closing',
  CLOSED = 'closed',
}

/** Where a task's Data-Out stands. */
enum DataState {
  /** No Data-Out, or all of it has arrived. */
  COMPLETE = 'complete',
  COLLECTING = 'collecting',
  /** A sequence error or an abort ended the transfer; the engine gets no data. */
  FAILED = 'failed',
}

/**
 * One SCSI command of this connection. Tasks are reused once the engine has completed them
 * (DESIGN.md §10: nothing allocated per command on the hot path): each carries its engine request,
 * its completion callback and its Data-Out hook, made once when the task object is created.
 */
class Task {
  itt = 0;
  lun = 0;
  attr: TaskAttr = TaskAttr.SIMPLE;
  expectedLength = 0;
  /** Copied: the PDU's own bytes may alias a socket chunk, which the task must not keep alive. */
  cdb: Buffer;
  cmdSN = 0;
  immediate = false;
  collector: DataOutCollector | undefined = undefined;
  /** The Data-Out as the engine gets it (a view of `dataBuf`), once it has all arrived. */
  dataOut: Buffer | undefined = undefined;
  /** The connection's pool buffer holding the Data-Out, given back when the engine completes. */
  dataBuf: Buffer | undefined = undefined;
  data = DataState.COMPLETE;
  /** Handed to the engine (in CmdSN order); until then the task lives only here. */
  submitted = false;
  /** The engine's request for the Data-Out, parked until the transfer ends. */
  dataCb: ((data: Uint8Array | undefined) => void) | undefined = undefined;
  /** Aborted on the wire (task management, logout, connection loss): no response is sent. */
  aborted = false;
  /** Owned copy of a 16-byte CDB, reused with the task. */
  private readonly cdb16 = Buffer.allocUnsafe(CDB_BYTES);
  readonly req: CommandRequest;
  readonly done: CompletionCallback;
  readonly later: (cb: (data: Uint8Array | undefined) => void) => void;

  constructor(conn: IscsiConnection) {
    this.cdb = this.cdb16;
    this.req = { lun: 0, cdb: this.cdb16, tag: 0, attr: TaskAttr.SIMPLE, expectedLength: 0, dataOut: undefined, dataOutLater: undefined };
    this.done = (c) => conn.taskDone(this, c);
    this.later = (cb) => conn.dataWanted(this, cb);
  }

  /** RFC 7143 11.3: the fields of a SCSI Command, its CDB copied out of the PDU. */
  init(p: ScsiCommand): void {
    this.itt = p.itt;
    this.lun = p.lun;
    this.attr = p.attr as number as TaskAttr;
    this.expectedLength = p.expectedDataTransferLength;
    if (p.cdb.length === CDB_BYTES) {
      p.cdb.copy(this.cdb16, 0, 0, CDB_BYTES);
      this.cdb = this.cdb16;
    } else {
      this.cdb = Buffer.from(p.cdb);
    }
    this.cmdSN = p.cmdSN;
    this.immediate = p.immediate;
    this.collector = undefined;
    this.dataOut = undefined;
    this.dataBuf = undefined;
    this.data = DataState.COMPLETE;
    this.submitted = false;
    this.dataCb = undefined;
    this.aborted = false;
  }
}

/** RFC 7143 11.3.6: the CDB field of the BHS. */
const CDB_BYTES = 16;
/** Completed tasks kept for reuse per connection. */
const TASK_POOL_MAX = 256;

const EMPTY = Buffer.alloc(0);
const ZERO_PAD = Buffer.alloc(4);
/**
 * The most Data-Out one command may bring: the engine's Block Limits MAXIMUM TRANSFER LENGTH
 * (what VPD B0h advertises). A write announcing more is not solicited and no buffer is reserved
 * for it: its Data-Out fails at once, so a 48-byte PDU cannot make the target reserve 4 GiB.
 */
export const MAX_DATA_OUT_BYTES = BLOCK_LIMITS.maxTransferBytes;

/** Smallest remainder of a data segment worth a recv(2) of its own (framer.receiveDataInPlace). */
const IN_PLACE_MIN_BYTES = 16 * 1024;
/** Per-connection scratch for target PDU headers, digests and sense segments (DESIGN.md §10). */
const SCRATCH_BYTES = 16384;

export class IscsiConnection {
  private phase = Phase.LOGIN;
  private readonly framer: PduFramer;
  private login: LoginState;
  private params: OperationalParams | undefined;
  private session: IscsiSession | undefined;
  private statSN = 0;
  private cid = 0;
  private readonly out: Uint8Array[] = [];
  /** Completions whose Data-In views are queued in `out`: released once written. */
  private readonly releases: Array<() => void> = [];
  private scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** Data-Out buffers for reuse by later writes of this connection. */
  private readonly dataPool = new DataOutBufferPool();
  private readonly responseFields: ScsiResponseFields = {
    statSN: 0, expCmdSN: 0, maxCmdSN: 0, itt: 0, response: ScsiServiceResponse.COMMAND_COMPLETED_AT_TARGET, status: 0,
    expDataSN: 0, residual: Residual.NONE, residualCount: 0, bidiResidual: Residual.NONE, bidiResidualCount: 0, snackTag: 0,
    dataSegmentLength: 0,
  };
  private readonly dataInFields: DataInFields = {
    final: false, ack: false, status: undefined, lun: 0, itt: 0, ttt: RESERVED_TAG, statSN: 0, expCmdSN: 0, maxCmdSN: 0,
    dataSN: 0, bufferOffset: 0, residual: undefined, residualCount: undefined, dataSegmentLength: 0,
  };
  private readonly r2tFields: R2TFields = {
    statSN: 0, expCmdSN: 0, maxCmdSN: 0, lun: 0, itt: 0, ttt: 0, r2tSN: 0, bufferOffset: 0, desiredDataTransferLength: 0,
  };
  private scratchUsed = 0;
  private inHandler = false;
  private flushScheduled = false;
  private readonly coalescer = new ResponseCoalescer();
  /** A write command's immediate data assembled in a pooled buffer, until the command claims it. */
  private landedImmediate: Buffer | undefined;
  private readonly busyPoll: BusyPoll | undefined;
  private readonly tasks = new Map<number, Task>();
  private readonly taskPool: Task[] = [];
  /** Filled by decodeScsiCommandInto for each SCSI Command; valid until the next PDU. */
  private readonly cmdView = newScsiCommand();
  private readonly submitBound = (t: Task): void => this.submit(t);
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private readonly allocTtt = tagAllocator(0x100);
  private pinger: NopPinger | undefined;
  private readonly textAcc = new TextAccumulator({ maxValueLength });
  private textPending: { ttt: number; chunks: Buffer[] } | undefined;
  private closedResolve!: () => void;
  /** Resolves once the socket is gone and the session (if ours) is released. */
  readonly closed: Promise<void>;
  readonly remote: string;
  /** Why the connection ended (set when it closes). */
  endReason: string | undefined;
  /** Set by the last login step when the session moves to an engine thread. */
  private handOffDue = false;
  /** The new session replaces a hosted one (RFC 7143 6.3.5 / 6.3.4). */
  private reinstating = false;
  /** Socket chunks that arrived while the hand-off is under way. */
  private readonly handOffInput: Buffer[] = [];

  /**
   * `resume`: the connection starts in the full feature phase from a login done elsewhere (the
   * supervisor), on an engine thread; feed() the bytes read past the login before the socket's.
   */
  constructor(
    private readonly socket: Duplex & { remoteAddress?: string; remotePort?: number },
    private readonly ctx: ConnectionContext,
    resume?: ResumeState,
  ) {
    this.closed = new Promise((r) => (this.closedResolve = r));
    this.busyPoll = busyPollFor(ctx.settings.busyPollMicros ?? 0);
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.login = createLoginState({
      config: negotiationConfig(ctx.settings),
      portalGroupTag: ctx.tpgt,
      cmdWindow: ctx.settings.queueDepth,
    });
    this.framer = new PduFramer(
      {
        pdu: (h, d) => this.onPdu(h, d),
        error: (e) => this.onFramerError(e),
      },
      { maxRecvDataSegmentLength: DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH, allocData: (n, h) => this.landing(n, h) },
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.destroy(`socket error: ${err.message}`));
    socket.on('close', () => this.destroy('peer closed'));
    socket.on('end', () => this.destroy('peer ended'));
    if (resume) this.resumeFullFeature(resume);
  }

  /** Bytes that belong before anything the socket reads (the supervisor's leftovers). */
  feed(bytes: Uint8Array): void {
    if (bytes.length > 0) this.onData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  /** RFC 7143 6.3: the full feature phase of a session whose login ran on the supervisor. */
  private resumeFullFeature(r: ResumeState): void {
    const { ctx } = this;
    this.params = r.params;
    this.statSN = r.statSN >>> 0;
    this.cid = r.cid;
    // RFC 7143 13.1 / 13.12: the negotiated digests and our MaxRecvDataSegmentLength apply now.
    this.framer.setDigests(r.params.headerDigest, r.params.dataDigest);
    this.framer.setMaxRecvDataSegmentLength(r.params.maxRecvDataSegmentLength);
    const nexus = ctx.engine.openNexus({ targetName: r.targetName, initiatorName: r.initiatorName, isid: r.isid, tpgt: r.tpgt });
    const s = new IscsiSession(
      { tsih: r.tsih, isid: parseInt(r.isid, 16), initiatorName: r.initiatorName, targetName: r.targetName, type: 'Normal' },
      r.expCmdSN, ctx.settings.queueDepth, nexus,
    );
    s.connection = this;
    ctx.sessions.add(s);
    this.session = s;
    this.phase = Phase.FULL_FEATURE;
    if (!nexus) {
      this.destroy('target gone');
      return;
    }
    // SAM-5 I_T nexus loss: an engine thread holding one of its units died; at ERL 0 the
    // connection goes and the initiator logs in again.
    if ('onLost' in nexus) (nexus as { onLost?: () => void }).onLost = () => this.destroy('nexus lost');
    this.startPinger();
  }

  get isFullFeature(): boolean {
    return this.phase === Phase.FULL_FEATURE;
  }

  get sessionType(): 'Normal' | 'Discovery' | undefined {
    return this.session?.id.type;
  }

  // ------------------------------------------------------------ input

  /** Every socket chunk enters here: an exception closes this connection only. */
  private onData(chunk: Buffer): void {
    if (this.phase === Phase.HANDING_OFF) {
      this.handOffInput.push(chunk);
      return;
    }
    if (this.phase === Phase.CLOSED || this.phase === Phase.CLOSING) return;
    this.inHandler = true;
    this.coalescer.readStarted();
    try {
      this.framer.feed(chunk);
      const rx = this.ctx.receiver;
      if (rx !== undefined && this.phase === Phase.FULL_FEATURE) this.framer.receiveDataInPlace(rx, IN_PLACE_MIN_BYTES);
    } catch (e) {
      this.fault(e);
    } finally {
      this.inHandler = false;
      if (this.handOffDue) this.startHandOff();
      else this.flush();
    }
  }

  private fault(e: unknown): void {
    this.ctx.log.error({ err: e, remote: this.remote }, 'iSCSI connection fault; closing the connection');
    this.destroy('internal fault');
  }

  private onFramerError(e: FramerError): void {
    if (e.kind === 'digest-error' && e.segment === 'data') {
      // RFC 7143 7.8: data digest error: drop the PDU, Reject it; at ERL 0 the connection goes.
      this.ctx.log.warn({ remote: this.remote }, 'data digest error');
      this.reject(RejectReason.DATA_DIGEST_ERROR, e.header);
      this.closeAfterFlush('data digest error');
      return;
    }
    this.ctx.log.warn({ remote: this.remote, kind: e.kind }, 'framing error; closing the connection');
    if (e.kind === 'too-long') this.reject(RejectReason.PROTOCOL_ERROR, e.header);
    this.closeAfterFlush(e.kind);
  }

  private onPdu(header: Buffer, data: Buffer): void {
    if (this.phase === Phase.CLOSING || this.phase === Phase.CLOSED) return;
    // The hot path: a well-formed SCSI Command decoded into the connection's reusable object.
    if (this.phase === Phase.FULL_FEATURE && decodeScsiCommandInto(header, data, this.cmdView)) {
      this.onScsiCommand(this.cmdView, header);
      return;
    }
    const d = decodeInitiatorPdu(header, data);
    if (!d.ok) {
      this.ctx.log.warn({ remote: this.remote, detail: d.detail }, 'malformed PDU');
      if (this.phase === Phase.LOGIN || d.reason === 'protocol-error') {
        this.closeAfterFlush(d.detail);
        return;
      }
      this.reject(d.reason, header);
      // RFC 7143 7.8 / 6.2: at ERL 0 a protocol error ends the connection.
      if (d.reason === RejectReason.PROTOCOL_ERROR) this.closeAfterFlush(d.detail);
      return;
    }
    if (this.phase === Phase.LOGIN) {
      if (d.pdu.op !== IscsiOp.LOGIN_REQ) {
        // RFC 7143 6.3: nothing but Login Requests before the full feature phase.
        this.closeAfterFlush('non-login PDU during login');
        return;
      }
      this.onLogin(d.pdu);
      return;
    }
    this.dispatch(d.pdu, header);
  }

  // ------------------------------------------------------------ login

  private onLogin(req: LoginRequest): void {
    const policy = this.loginPolicy();
    const r = loginStep(this.login, req, policy);
    this.login = r.state;
    for (const resp of r.responses) this.sendLoginResponse(resp);
    let failed = false;
    let fullFeature: OperationalParams | undefined;
    for (const e of r.effects) {
      if (e.kind === 'fail') {
        failed = true;
        this.ctx.log.info({ remote: this.remote, status: e.status, reason: e.reason }, 'login failed');
      } else if (e.kind === 'full-feature') {
        fullFeature = e.params;
      } else {
        this.applyEffect(e, req);
      }
    }
    if (failed || r.state.phase === LoginPhase.FAILED) {
      this.closeAfterFlush('login failed');
      return;
    }
    if (fullFeature && this.session) {
      this.params = fullFeature;
      this.statSN = r.state.statSN;
      // RFC 7143 13.1 / 13.12: digests and our MaxRecvDataSegmentLength apply after the final response.
      this.framer.setDigests(fullFeature.headerDigest, fullFeature.dataDigest);
      this.framer.setMaxRecvDataSegmentLength(fullFeature.maxRecvDataSegmentLength);
      this.cid = req.cid;
      if (this.ctx.handOff && this.session.id.type === 'Normal') {
        // DESIGN.md §3: the full feature phase runs on an engine thread. Nothing past this
        // Login Request is read here; what was read already travels with the socket.
        this.phase = Phase.HANDING_OFF;
        this.framer.halt();
        this.socket.pause();
        this.handOffDue = true;
        return;
      }
      this.phase = Phase.FULL_FEATURE;
      this.ctx.log.info(
        { remote: this.remote, initiator: this.session.id.initiatorName, target: this.session.id.targetName, type: this.session.id.type, tsih: this.session.id.tsih },
        'login complete',
      );
      this.startPinger();
    }
  }

  private loginPolicy() {
    const ctx = this.ctx;
    const ho = ctx.handOff;
    if (ho) {
      // Normal sessions live on engine threads, discovery sessions here.
      return {
        targetExists: (name: string) => ctx.engine.targetConfig(name)?.driver === 'iscsi' && ctx.portalTargets.includes(name),
        authFor: (initiator: string, target: string | undefined, type: 'Normal' | 'Discovery') =>
          authFor(ctx.engine, ctx.portalTargets, initiator, target, type),
        randomBytes: (n: number) => randomBytes(n),
        findSession: (initiator: string, isid: number, target: string | undefined) => target === undefined
          ? ctx.sessions.find(initiator, isid, target)?.id.tsih
          : ho.findSession(initiator, isidHex(isid), target, ctx.tpgt),
        sessionExists: (tsih: number, initiator: string, isid: number) => {
          const s = ctx.sessions.get(tsih);
          if (s) return s.id.initiatorName === initiator && s.id.isid === isid;
          return ho.sessionExists(tsih, initiator, isidHex(isid));
        },
        allocateTsih: () => {
          for (let i = 0; i < 0xffff; i++) {
            const t = ctx.sessions.allocateTsih();
            if (t === null) return null;
            if (!ho.tsihInUse(t)) return t;
          }
          return null;
        },
      };
    }
    return {
      targetExists: (name: string) => ctx.engine.targetConfig(name)?.driver === 'iscsi' && ctx.portalTargets.includes(name),
      authFor: (initiator: string, target: string | undefined, type: 'Normal' | 'Discovery') =>
        authFor(ctx.engine, ctx.portalTargets, initiator, target, type),
      randomBytes: (n: number) => randomBytes(n),
      findSession: (initiator: string, isid: number, target: string | undefined) => ctx.sessions.find(initiator, isid, target)?.id.tsih,
      sessionExists: (tsih: number, initiator: string, isid: number) => {
        const s = ctx.sessions.get(tsih);
        return !!s && s.id.initiatorName === initiator && s.id.isid === isid;
      },
      allocateTsih: () => ctx.sessions.allocateTsih(),
    };
  }

  private applyEffect(e: Exclude<LoginEffect, { kind: 'fail' } | { kind: 'full-feature' }>, req: LoginRequest): void {
    const { ctx } = this;
    switch (e.kind) {
      case 'lookup-target':
        return;
      case 'reinstate-session': {
        // RFC 7143 6.3.5: the old session of this initiator port ends as if its connection failed.
        if (ctx.handOff && !ctx.sessions.get(e.tsih)) {
          // Hosted on an engine thread: closed there before the new session starts.
          this.reinstating = true;
          return;
        }
        const old = ctx.sessions.get(e.tsih);
        if (old) this.dropSession(old, 'session reinstated');
        return;
      }
      case 'create-session': {
        if (ctx.handOff && e.sessionType === 'Normal') {
          // The nexus opens on the engine thread; this session only carries the login's numbering.
          this.session = new IscsiSession(
            { tsih: e.tsih, isid: e.isid, initiatorName: e.initiatorName, targetName: e.targetName, type: e.sessionType },
            e.cmdSN, ctx.settings.queueDepth, undefined,
          );
          return;
        }
        const nexus = e.sessionType === 'Normal' && e.targetName !== undefined
          ? ctx.engine.openNexus({ targetName: e.targetName, initiatorName: e.initiatorName, isid: isidHex(e.isid), tpgt: ctx.tpgt })
          : undefined;
        const s = new IscsiSession(
          { tsih: e.tsih, isid: e.isid, initiatorName: e.initiatorName, targetName: e.targetName, type: e.sessionType },
          e.cmdSN, ctx.settings.queueDepth, nexus,
        );
        s.connection = this;
        ctx.sessions.add(s);
        this.session = s;
        return;
      }
      case 'bind-connection': {
        // RFC 7143 6.3.4 at ERL 0 with MaxConnections=1: connection reinstatement is session
        // reinstatement. The old connection and its tasks go; the session restarts under its TSIH.
        const old = ctx.sessions.get(e.tsih);
        const st = this.login;
        if (!old && ctx.handOff && st.initiatorName !== undefined && st.sessionType === 'Normal') {
          // Hosted on an engine thread: it is closed there, and the session restarts under its TSIH.
          this.reinstating = true;
          this.session = new IscsiSession(
            { tsih: e.tsih, isid: st.isid, initiatorName: st.initiatorName, targetName: st.targetName, type: 'Normal' },
            req.cmdSN, ctx.settings.queueDepth, undefined,
          );
          return;
        }
        if (!old) return;
        this.dropSession(old, 'connection reinstated');
        const nexus = old.id.type === 'Normal' && old.id.targetName !== undefined
          ? ctx.engine.openNexus({ targetName: old.id.targetName, initiatorName: old.id.initiatorName, isid: isidHex(old.id.isid), tpgt: ctx.tpgt })
          : undefined;
        const s = new IscsiSession({ ...old.id }, req.cmdSN, ctx.settings.queueDepth, nexus);
        s.connection = this;
        ctx.sessions.add(s);
        this.session = s;
        return;
      }
    }
  }

  /** Moves the socket to an engine thread with the final Login Response and what was read past it. */
  private startHandOff(): void {
    this.handOffDue = false;
    const ho = this.ctx.handOff as FullFeatureHandOff;
    const s = this.session as IscsiSession;
    const rest = this.framer.takeRest();
    const leftover = this.handOffInput.length > 0 ? Buffer.concat([rest, ...this.handOffInput.splice(0)]) : rest;
    const finalResponse = Buffer.concat(this.out);
    this.out.length = 0;
    this.scratchUsed = 0;
    const state: ResumeState = {
      targetName: s.id.targetName as string, initiatorName: s.id.initiatorName, isid: isidHex(s.id.isid), tsih: s.id.tsih,
      cid: this.cid, tpgt: this.ctx.tpgt, statSN: this.statSN, expCmdSN: s.window.expCmdSN, maxCmdSN: s.window.maxCmdSN,
      params: this.params as OperationalParams,
    };
    const finish = (ok: boolean, detail: string): void => {
      if (ok) this.ctx.log.info({ remote: this.remote, initiator: state.initiatorName, tsih: state.tsih, thread: detail }, 'login complete; session on engine thread');
      else this.ctx.log.warn({ remote: this.remote, initiator: state.initiatorName, error: detail }, 'hand-off to an engine thread failed');
      if (this.phase === Phase.CLOSED) return;
      this.phase = Phase.CLOSED;
      this.endReason = ok ? 'handed off' : `hand-off failed: ${detail}`;
      if (!ok) this.socket.destroy();
      this.closedResolve();
    };
    ho.handOff({ socket: this.socket, state, leftover, finalResponse, reinstate: this.reinstating }).then(
      (r) => finish(r.ok, r.ok ? String(r.thread) : r.error),
      (err: unknown) => finish(false, (err as Error).message),
    );
  }

  private dropSession(old: IscsiSession, reason: string): void {
    this.ctx.sessions.remove(old);
    const conn = old.connection;
    old.connection = undefined;
    conn?.destroy(reason);
    void old.end('loss').catch((err: unknown) => this.ctx.log.error({ err }, 'closing a reinstated session failed'));
  }

  private sendLoginResponse(r: LoginResponse): void {
    const bhs = this.bhs();
    encodeLoginResponse(bhs, 0, { ...r.fields, dataSegmentLength: r.data.length });
    // Digests are never used during login (RFC 7143 13.1).
    this.queue(bhs, r.data, false, false);
  }

  // ------------------------------------------------------------ full feature phase

  private dispatch(p: InitiatorPdu, header: Buffer): void {
    switch (p.op) {
      case IscsiOp.SCSI_COMMAND:
        return this.onScsiCommand(p, header);
      case IscsiOp.SCSI_DATA_OUT:
        return this.onDataOut(p, header);
      case IscsiOp.NOP_OUT:
        return this.onNopOut(p);
      case IscsiOp.TASK_MGMT_REQ:
        return this.onTmf(p);
      case IscsiOp.TEXT_REQ:
        return this.onText(p);
      case IscsiOp.LOGOUT_REQ:
        return this.onLogout(p);
      case IscsiOp.LOGIN_REQ:
        // RFC 7143 6.3: a Login Request in the full feature phase is a protocol error.
        this.reject(RejectReason.PROTOCOL_ERROR, header);
        this.closeAfterFlush('login request in full feature phase');
        return;
      case IscsiOp.SNACK_REQ:
        // RFC 7143 11.16: no SNACK support at ERL 0.
        this.reject(RejectReason.SNACK_REJECT, header);
        return;
    }
  }

  /**
   * Order a non-immediate request through the CmdSN window (RFC 7143 3.2.2.1); immediate ones
   * run now. Returns false when the request was outside the window and silently dropped.
   */
  private ordered(cmdSN: number, immediate: boolean, run: () => void): boolean {
    const s = this.session as IscsiSession;
    if (s.window.admit(cmdSN, immediate) === 'drop') {
      this.ctx.log.debug({ cmdSN, expCmdSN: s.window.expCmdSN, maxCmdSN: s.window.maxCmdSN }, 'CmdSN outside the window, dropped');
      return false;
    }
    if (immediate) run();
    else s.window.enqueue(cmdSN, true, run);
    return true;
  }

  /** A non-immediate request is answered: the window slides. */
  private finishedCommand(immediate: boolean): void {
    if (!immediate) this.session?.window.finished();
  }

  private onScsiCommand(p: ScsiCommand, header: Buffer): void {
    this.coalescer.commandArrived();
    // The pooled buffer the immediate data was assembled in, if it was (landing()); a command
    // refused before it is claimed simply leaves it to the garbage collector.
    const landed = this.landedImmediate;
    this.landedImmediate = undefined;
    const s = this.session as IscsiSession;
    if (s.id.type !== 'Normal' || !s.nexus) {
      // RFC 7143 4.3: a discovery session carries only Text, Logout and NOP.
      this.reject(RejectReason.PROTOCOL_ERROR, header);
      this.closeAfterFlush('SCSI command in a discovery session');
      return;
    }
    if (s.window.admit(p.cmdSN, p.immediate) === 'drop') {
      this.ctx.log.debug({ cmdSN: p.cmdSN, expCmdSN: s.window.expCmdSN }, 'SCSI command outside the CmdSN window, dropped');
      return;
    }
    if (this.tasks.has(p.itt)) {
      // RFC 7143 11.17.1: an ITT already in use.
      this.reject(RejectReason.TASK_IN_PROGRESS, header);
      if (!p.immediate) {
        s.window.skip(p.cmdSN);
        s.window.finished();
      }
      return;
    }
    const task = this.taskPool.pop() ?? new Task(this);
    task.init(p);
    let r2ts: R2tRequest[] | undefined;
    if (p.write && p.expectedDataTransferLength > MAX_DATA_OUT_BYTES) {
      this.ctx.log.warn({ remote: this.remote, itt: p.itt, edtl: p.expectedDataTransferLength }, 'write beyond the maximum transfer length; not solicited');
      task.data = DataState.FAILED;
    } else if (p.write && p.expectedDataTransferLength > 0) {
      const prm = this.params as OperationalParams;
      const edtl = p.expectedDataTransferLength;
      // The task buffer: the one the immediate data was assembled in, else a pooled one.
      const inPlace = landed !== undefined && sameMemory(landed, p.data);
      const buf = inPlace ? landed : this.dataPool.take(edtl);
      if (p.final && p.data.length === edtl) {
        // RFC 7143 3.2.4.2: all of the Data-Out is immediate data (the common small write): no
        // collector, no R2T. The segment aliases the framer's chunk, valid only during feed(), while
        // the engine may use dataOut until it completes (a CmdSN gap or a busy store defers it), so
        // it is copied once into a pooled buffer rather than kept.
        const chk = checkWriteStart(edtl, edtl, false, prm);
        if (!chk.ok) return this.protocolError(chk.reason, header);
        if (!inPlace) p.data.copy(buf, 0);
        task.dataBuf = buf;
        task.dataOut = buf.length === edtl ? buf : buf.subarray(0, edtl);
      } else {
        const st = DataOutCollector.start(edtl, p.data, !p.final, prm, this.allocTtt, buf);
        if (!st.ok) return this.protocolError(st.reason, header);
        task.collector = st.collector;
        task.dataBuf = buf;
        task.dataOut = st.collector.buffer;
        r2ts = st.r2ts;
        if (!st.collector.complete) task.data = DataState.COLLECTING;
      }
    } else if (p.data.length > 0) {
      return this.protocolError('data with no Expected Data Transfer Length', header);
    }
    this.tasks.set(p.itt, task);
    // RFC 7143 3.2.2.1: commands reach the engine in CmdSN order as soon as they are in order, their
    // Data-Out still in flight (the engine waits for it when the task is enabled); R2Ts go out now,
    // so the transfers of several commands proceed together, including behind a CmdSN gap.
    if (r2ts) for (const r of r2ts) this.sendR2T(task, r);
    if (p.immediate) this.submit(task);
    else s.window.enqueue(p.cmdSN, true, this.submitBound, task);
  }

  /**
   * Framer hook: where a data segment that spans socket chunks is assembled. Data-Out lands in
   * its task's buffer; a write command's immediate data lands in the pooled buffer that becomes
   * the task's (onScsiCommand claims it), so large immediate data is copied once, not twice.
   */
  private landing(length: number, header: Buffer): Buffer {
    if (this.phase !== Phase.FULL_FEATURE) return Buffer.allocUnsafe(length);
    const op = header[0] & 0x3f;
    if (op === IscsiOp.SCSI_COMMAND) {
      // RFC 7143 11.3.1: W bit (byte 1, 0x20); bytes 20..23: Expected Data Transfer Length.
      // Only up to MaxBurstLength: the buffer is taken before the command is checked, and a
      // command refused afterwards (CmdSN outside the window, ITT in use) must not have made
      // the target allocate much more than the bytes it sent.
      const edtl = header.readUInt32BE(20);
      const burst = this.params?.maxBurstLength ?? 0;
      if ((header[1] & 0x20) !== 0 && length <= edtl && edtl <= burst && edtl <= MAX_DATA_OUT_BYTES) {
        const buf = this.dataPool.take(edtl);
        this.landedImmediate = buf;
        return buf.subarray(0, length);
      }
      return Buffer.allocUnsafe(length);
    }
    if (op === IscsiOp.SCSI_DATA_OUT) {
      const task = this.tasks.get(header.readUInt32BE(16));
      if (task?.collector && task.data === DataState.COLLECTING) {
        const at = task.collector.landing(header.readUInt32BE(20), header.readUInt32BE(36), header.readUInt32BE(40), length);
        if (at) return at;
      }
    }
    return Buffer.allocUnsafe(length);
  }

  private onDataOut(p: DataOut, header: Buffer): void {
    const task = this.tasks.get(p.itt);
    if (!task || !task.collector || task.data !== DataState.COLLECTING) {
      // RFC 7143 11.5.1: data for a task already aborted (or failed) is discarded.
      this.ctx.log.debug({ itt: p.itt }, 'Data-Out for no collecting task, dropped');
      return;
    }
    const r = task.collector.accept(p);
    if (!r.ok && r.kind === DataOutErrorKind.PROTOCOL) return this.protocolError(r.reason, header);
    if (!r.ok) {
      // RFC 7143 11.7.5 / 7.1.4.1: a DataSN or Buffer Offset out of sequence. At ERL 0 there is no
      // recovery within the command: the command ends with CHECK CONDITION (ABORTED COMMAND, DATA
      // PHASE ERROR) and later Data-Out for it is discarded; the connection and the other tasks
      // carry on.
      this.ctx.log.warn({ remote: this.remote, itt: p.itt, reason: r.reason }, 'Data-Out sequence error; failing the command');
      this.endData(task, DataState.FAILED);
      return;
    }
    for (const x of r.r2ts) this.sendR2T(task, x);
    if (r.complete) this.endData(task, DataState.COMPLETE);
  }

  /** The transfer ended: hand the data (or its failure) to the engine if it is waiting. */
  private endData(task: Task, state: DataState.COMPLETE | DataState.FAILED): void {
    task.data = state;
    const cb = task.dataCb;
    task.dataCb = undefined;
    if (cb) cb(state === DataState.COMPLETE ? task.dataOut : undefined);
  }

  /** The engine's request for Data-Out: answered now if the transfer has ended, else parked. */
  dataWanted(task: Task, cb: (data: Uint8Array | undefined) => void): void {
    if (task.data === DataState.COLLECTING) task.dataCb = cb;
    else cb(task.data === DataState.COMPLETE ? task.dataOut : undefined);
  }

  private submit(task: Task): void {
    const s = this.session;
    if (!s?.nexus || this.tasks.get(task.itt) !== task) return;
    task.submitted = true;
    const complete = task.data === DataState.COMPLETE;
    const req = task.req;
    req.lun = task.lun;
    req.cdb = task.cdb;
    req.tag = task.itt;
    req.attr = task.attr;
    req.expectedLength = task.expectedLength;
    req.dataOut = complete ? task.dataOut : undefined;
    req.dataOutLater = complete ? undefined : task.later;
    s.nexus.execute(req, task.done);
  }

  /** The engine's completion of a submitted task (its `done`, bound once per task object). */
  taskDone(task: Task, c: Completion): void {
    try {
      this.complete(task, c);
    } catch (e) {
      this.fault(e);
    }
    // The engine is done with dataOut. The buffer is reused only if its transfer ended complete:
    // while a transfer is collecting (or failed mid-way) the framer may be assembling a Data-Out
    // segment in it across socket chunks (landing()), so such a buffer is left to the collector.
    const buf = task.dataBuf;
    if (buf && task.data === DataState.COMPLETE) this.dataPool.give(buf);
    task.dataBuf = undefined;
    task.dataOut = undefined;
    // The engine is finished with the task and its request: the object can serve another command.
    if (this.taskPool.length < TASK_POOL_MAX && this.tasks.get(task.itt) !== task) {
      task.collector = undefined;
      task.dataCb = undefined;
      task.req.dataOut = undefined;
      task.req.dataOutLater = undefined;
      this.taskPool.push(task);
    }
    if (this.coalescer.responseQueued()) this.flush();
    else this.scheduleFlush();
  }

  /** RFC 7143 11.4 / 11.7: Data-In with phase collapse, or a SCSI Response. */
  private complete(task: Task, c: Completion): void {
    if (this.tasks.get(task.itt) === task) this.tasks.delete(task.itt);
    this.finishedCommand(task.immediate);
    if (c.aborted || task.aborted || this.phase !== Phase.FULL_FEATURE) {
      // RFC 7143 11.5.1: an aborted task is freed without a response.
      c.release?.();
      return;
    }
    if (c.release) this.releases.push(c.release);
    const prm = this.params as OperationalParams;
    const data = c.data ?? EMPTY;
    const n = data.length;
    if (n > 0 && n <= prm.maxXmitDataSegmentLength && n <= prm.maxBurstLength && collapsible(c)) {
      // RFC 7143 11.7.4: the whole read fits one Data-In, which carries the status (the common case).
      const bhs = this.bhs();
      const w = (this.session as IscsiSession).window;
      encodeDataInStatus(bhs, 0, c.status, Math.max(0, task.lun), task.itt, this.statSN, w.expCmdSN, w.maxCmdSN, wireResidual(c.residualKind), c.residual, n);
      this.statSN = (this.statSN + 1) >>> 0;
      this.queue(bhs, data);
      return;
    }
    const residual = wireResidual(c.residualKind);
    let dataSN = 0;
    if (n > 0) {
      const plan = planDataIn(c, prm.maxXmitDataSegmentLength, prm.maxBurstLength);
      // One fields object per connection, refilled per PDU (no per-PDU object shapes).
      const f = this.dataInFields;
      for (const d of plan.pdus) {
        // RFC 7143 4.2.2.2: only the Data-In that carries status consumes a StatSN.
        this.stampSeq(f, d.status);
        f.final = d.final;
        f.status = d.status ? c.status : undefined;
        f.lun = Math.max(0, task.lun);
        f.itt = task.itt;
        f.dataSN = dataSN++;
        f.bufferOffset = d.offset;
        f.residual = d.status ? residual : undefined;
        f.residualCount = d.status ? c.residual : undefined;
        f.dataSegmentLength = d.length;
        const bhs = this.bhs();
        encodeDataIn(bhs, 0, f);
        this.queue(bhs, data.subarray(d.offset, d.offset + d.length));
      }
      if (!plan.response) return;
    }
    const sense = c.sense && c.sense.length > 0 ? c.sense : undefined;
    const seg = sense ? this.scratchBytes(2 + sense.length) : EMPTY;
    if (sense) encodeSenseSegment(seg, 0, sense);
    const f = this.responseFields;
    this.stampSeq(f, true);
    f.itt = task.itt;
    f.status = c.status;
    // RFC 7143 11.4.8: ExpDataSN counts the Data-In and R2T PDUs sent for the task.
    f.expDataSN = dataSN + (task.collector?.r2tCount ?? 0);
    f.residual = residual;
    f.residualCount = residual === Residual.NONE ? 0 : c.residual;
    f.dataSegmentLength = seg.length;
    const bhs = this.bhs();
    encodeScsiResponse(bhs, 0, f);
    this.queue(bhs, seg);
  }

  private sendR2T(task: Task, r: R2tRequest): void {
    const bhs = this.bhs();
    // One fields object per connection, filled per R2T (nothing allocated per PDU).
    const f = this.r2tFields;
    this.stampSeq(f, false);
    f.lun = Math.max(0, task.lun);
    f.itt = task.itt;
    f.ttt = r.ttt;
    f.r2tSN = r.r2tSN;
    f.bufferOffset = r.bufferOffset;
    f.desiredDataTransferLength = r.desiredDataTransferLength;
    encodeR2T(bhs, 0, f);
    this.queue(bhs, EMPTY);
  }

  private protocolError(reason: string, header: Buffer): void {
    this.ctx.log.warn({ remote: this.remote, reason }, 'protocol error; closing the connection');
    this.reject(RejectReason.PROTOCOL_ERROR, header);
    this.closeAfterFlush(reason);
  }

  // ------------------------------------------------------------ NOP

  private onNopOut(p: NopOut): void {
    if (p.itt === RESERVED_TAG) {
      // RFC 7143 11.18: the answer to our ping; it consumes no CmdSN.
      this.pinger?.answered(p.ttt);
      return;
    }
    const echo = Buffer.from(p.data);
    this.ordered(p.cmdSN, p.immediate, () => {
      const bhs = this.bhs();
      this.finishedCommand(p.immediate);
      // RFC 7143 11.19: a ping answer echoes the data and carries TTT 0xffffffff.
      encodeNopIn(bhs, 0, { ...this.nextSeq(), lun: Math.max(0, p.lun), itt: p.itt, ttt: RESERVED_TAG, dataSegmentLength: echo.length });
      this.queue(bhs, echo);
    });
  }

  private startPinger(): void {
    const { nopInIntervalSec, nopInTimeoutSec } = this.ctx.settings;
    if (nopInIntervalSec <= 0) return;
    this.pinger = new NopPinger({
      intervalSec: nopInIntervalSec,
      timeoutSec: nopInTimeoutSec,
      allocTtt: this.allocTtt,
      ping: (ttt) => {
        if (this.phase !== Phase.FULL_FEATURE) return;
        const bhs = this.bhs();
        // RFC 7143 11.19: a target ping has ITT 0xffffffff and StatSN not advanced.
        encodeNopIn(bhs, 0, { ...this.seq(), lun: 0, itt: RESERVED_TAG, ttt, dataSegmentLength: 0 });
        this.queue(bhs, EMPTY);
        this.scheduleFlush();
      },
      expired: () => {
        this.ctx.log.warn({ remote: this.remote }, 'no answer to NOP-In; closing the connection');
        this.destroy('NOP-In timeout');
      },
    });
    this.pinger.start();
  }

  // ------------------------------------------------------------ task management

  private onTmf(p: TaskMgmtRequest): void {
    this.ordered(p.cmdSN, p.immediate, () => this.runTmf(p));
  }

  private runTmf(p: TaskMgmtRequest): void {
    const s = this.session as IscsiSession;
    const plan = planTmf(p.function);
    const answer = (r: TmfResponse): void => {
      this.finishedCommand(p.immediate);
      if (this.phase !== Phase.FULL_FEATURE) return;
      const bhs = this.bhs();
      encodeTmfResponse(bhs, 0, { ...this.nextSeq(), itt: p.itt, response: r });
      this.queue(bhs, EMPTY);
      this.scheduleFlush();
      if (plan.dropConnection) this.closeAfterFlush('target cold reset');
    };
    if (plan.response !== undefined || plan.engineFn === undefined) return answer(plan.response ?? TmfResponse.TMF_NOT_SUPPORTED);
    const nexus = s.nexus;
    if (!nexus) return answer(TmfResponse.FUNCTION_REJECTED);

    // Tasks the function reaches that are still only here are dropped here; submitted ones still
    // collecting Data-Out are aborted on the wire too, so the engine's wait for their data ends.
    const collecting: Task[] = [];
    let localOnly = false;
    const reach = (t: Task): void => {
      if (!t.submitted) {
        this.dropTask(t);
        localOnly = true;
      } else if (t.data === DataState.COLLECTING) {
        collecting.push(t);
      }
    };
    if (plan.scope === TmfScope.ONE_TASK) {
      const t = this.tasks.get(p.referencedTaskTag);
      if (t) reach(t);
      if (localOnly) return answer(TmfResponse.FUNCTION_COMPLETE);
      if (!t) {
        // RFC 7143 11.5.1: a referenced command not yet received but within the window is
        // considered received and aborted (function complete); otherwise the task does not exist.
        const w = s.window;
        if (!w.has(p.refCmdSN) && inWindow(p.refCmdSN, w.expCmdSN, w.maxCmdSN) && p.refCmdSN !== p.cmdSN) {
          w.skip(p.refCmdSN);
          w.finished();
          return answer(TmfResponse.FUNCTION_COMPLETE);
        }
        return answer(TmfResponse.TASK_DOES_NOT_EXIST);
      }
    } else if (plan.scope !== TmfScope.NONE) {
      for (const t of [...this.tasks.values()]) {
        if (plan.scope === TmfScope.ALL || t.lun === p.lun) reach(t);
      }
    }
    const pending = nexus.taskManagement({ fn: plan.engineFn, lun: p.lun, refTag: p.referencedTaskTag });
    for (const t of collecting) this.abortOnWire(t);
    pending.then(
      (r) => {
        const wire = wireTmfResponse(r);
        // The engine may have settled the task (its data failed) before the function reached it.
        answer(collecting.length > 0 && wire === TmfResponse.TASK_DOES_NOT_EXIST ? TmfResponse.FUNCTION_COMPLETE : wire);
      },
      (err: unknown) => {
        this.ctx.log.error({ err, fn: p.function }, 'task management failed');
        answer(TmfResponse.FUNCTION_REJECTED);
      },
    );
  }

  /** The task is aborted here: no response, and the engine's wait for its Data-Out ends. */
  private abortOnWire(t: Task): void {
    t.aborted = true;
    if (t.data === DataState.COLLECTING) this.endData(t, DataState.FAILED);
  }

  /** Connection gone or session ended: every task goes, and no engine task waits for data. */
  private abortAll(): Task[] {
    const all = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of all) t.aborted = true;
    return all;
  }

  private failData(tasks: Task[]): void {
    for (const t of tasks) if (t.data === DataState.COLLECTING) this.endData(t, DataState.FAILED);
  }

  /** Forget a task that never reached the engine. */
  private dropTask(t: Task): void {
    this.tasks.delete(t.itt);
    if (!t.immediate) {
      const w = (this.session as IscsiSession).window;
      if (w.has(t.cmdSN)) w.skip(t.cmdSN);
      w.finished();
    }
  }

  // ------------------------------------------------------------ text

  private onText(p: TextRequest): void {
    this.ordered(p.cmdSN, p.immediate, () => this.runText(p));
  }

  private runText(p: TextRequest): void {
    this.finishedCommand(p.immediate);
    const prm = this.params as OperationalParams;
    // RFC 7143 11.10.4: an empty request with our TTT fetches the next part of a long answer.
    if (p.ttt !== RESERVED_TAG && this.textPending && this.textPending.ttt === p.ttt && p.data.length === 0) {
      const [next, ...rest] = this.textPending.chunks;
      this.textPending = rest.length > 0 ? { ttt: p.ttt, chunks: rest } : undefined;
      this.sendText(p, next, rest.length > 0 ? p.ttt : RESERVED_TAG);
      return;
    }
    this.textPending = undefined;
    const acc = this.textAcc.push(p.data, p.continue);
    if (!acc.done) {
      // RFC 7143 11.10.2: C=1 requests get an empty answer until the set is complete.
      this.sendText(p, EMPTY, this.allocTtt(), false);
      return;
    }
    const answers: Array<[string, string]> = [];
    if (acc.result.ok) {
      const s = this.session as IscsiSession;
      for (const [k, v] of acc.result.pairs) {
        if (k === 'SendTargets') answers.push(...sendTargets(this.ctx.discovery, s.id.initiatorName, v, s.id.targetName));
        // RFC 7143 6.2: nothing is renegotiated in the full feature phase here.
        else answers.push([k, k.startsWith('X-') || k.startsWith('X#') ? 'NotUnderstood' : 'Reject']);
      }
    }
    const chunks = splitText(encodeText(answers), prm.maxXmitDataSegmentLength);
    if (chunks.length > 1) {
      const ttt = this.allocTtt();
      this.textPending = { ttt, chunks: chunks.slice(1) };
      this.sendText(p, chunks[0], ttt);
    } else {
      this.sendText(p, chunks[0], RESERVED_TAG);
    }
  }

  private sendText(p: TextRequest, data: Buffer, ttt: number, final = ttt === RESERVED_TAG): void {
    const bhs = this.bhs();
    // RFC 7143 11.11.1: C=1 (more to come) with F=0; the last part has F=1, TTT 0xffffffff.
    const more = final ? false : data.length > 0;
    encodeTextResponse(bhs, 0, { ...this.nextSeq(), final, continue: more, lun: 0, itt: p.itt, ttt, dataSegmentLength: data.length });
    this.queue(bhs, data);
  }

  // ------------------------------------------------------------ logout

  private onLogout(p: LogoutRequest): void {
    this.ordered(p.cmdSN, p.immediate, () => {
      this.finishedCommand(p.immediate);
      const prm = this.params as OperationalParams;
      const d = decideLogout(p.reasonCode, p.cid, this.cid);
      const bhs = this.bhs();
      encodeLogoutResponse(bhs, 0, {
        ...this.nextSeq(), itt: p.itt, response: d.response, time2Wait: prm.defaultTime2Wait, time2Retain: prm.defaultTime2Retain,
      });
      this.queue(bhs, EMPTY);
      if (!d.closeSession) return;
      const s = this.session;
      this.phase = Phase.CLOSING;
      this.pinger?.stop();
      const gone = this.abortAll();
      if (s) {
        this.ctx.sessions.remove(s);
        s.connection = undefined;
        this.ctx.log.info({ remote: this.remote, initiator: s.id.initiatorName, tsih: s.id.tsih }, 'logout');
        void s.end('logout').catch((err: unknown) => this.ctx.log.error({ err }, 'closing the session failed'));
      }
      this.failData(gone);
      this.closeAfterFlush('logout');
    });
  }

  /** RFC 7143 11.9.1: ask the initiator to log out (daemon shutdown). */
  requestLogout(seconds: number): void {
    if (this.phase !== Phase.FULL_FEATURE) return;
    const bhs = this.bhs();
    encodeAsyncMessage(bhs, 0, { ...this.nextSeq(), ...logoutRequest(seconds), dataSegmentLength: 0 });
    this.queue(bhs, EMPTY);
    this.scheduleFlush();
  }

  // ------------------------------------------------------------ output

  /** StatSN, ExpCmdSN, MaxCmdSN for a PDU that does not carry status. */
  private seq(): SeqFields {
    const f: SeqFields = { statSN: 0, expCmdSN: 0, maxCmdSN: 0 };
    this.stampSeq(f, false);
    return f;
  }

  /**
   * StatSN, ExpCmdSN and MaxCmdSN into `f` (a PDU's fields object, reused per PDU on the data
   * path); `consume`: the PDU carries status and takes the StatSN (RFC 7143 4.2.2.2).
   */
  private stampSeq(f: SeqFields, consume: boolean): void {
    const w = this.session?.window;
    f.statSN = this.statSN;
    f.expCmdSN = w?.expCmdSN ?? 0;
    f.maxCmdSN = w?.maxCmdSN ?? 0;
    if (consume) this.statSN = (this.statSN + 1) >>> 0;
  }

  /** Same, consuming a StatSN (RFC 7143 4.2.2.2: status-bearing PDUs). */
  private nextSeq(): SeqFields {
    const f = this.seq();
    this.statSN = (this.statSN + 1) >>> 0;
    return f;
  }

  private reject(reason: RejectReason, header: Uint8Array): void {
    const bhs = this.bhs();
    // RFC 7143 11.17: the data segment is the rejected PDU's BHS.
    const rejected = this.scratchBytes(BHS_LENGTH).fill(0);
    rejected.set(header.subarray(0, BHS_LENGTH));
    encodeReject(bhs, 0, { ...this.nextSeq(), reason, dataSegmentLength: rejected.length });
    this.queue(bhs, rejected);
  }

  /** A BHS from the connection's scratch (encoders zero all 48 bytes). */
  private bhs(): Buffer {
    return this.scratchBytes(BHS_LENGTH);
  }

  /**
   * `n` bytes of scratch that stay untouched until the batch they belong to is written: the
   * scratch is rewound after a flush the socket took whole, and replaced (the old one left to the
   * pending write) when it did not.
   */
  private scratchBytes(n: number): Buffer {
    if (this.scratchUsed + n > this.scratch.length) {
      this.scratch = Buffer.allocUnsafe(Math.max(SCRATCH_BYTES, n));
      this.scratchUsed = 0;
    }
    const b = this.scratch.subarray(this.scratchUsed, this.scratchUsed + n);
    this.scratchUsed += (n + 7) & ~7;
    return b;
  }

  /** Queue one PDU: BHS, header digest, data, padding, data digest. */
  private queue(bhs: Buffer, data: Uint8Array, hd = this.params?.headerDigest ?? false, dd = this.params?.dataDigest ?? false): void {
    if (this.phase === Phase.CLOSED) return;
    this.out.push(bhs);
    if (hd) {
      const d = this.scratchBytes(4);
      writeDigest(d, 0, headerDigest(bhs));
      this.out.push(d);
    }
    if (data.length === 0) return;
    this.out.push(data);
    const pad = paddedLength(data.length) - data.length;
    if (pad > 0) this.out.push(ZERO_PAD.subarray(0, pad));
    if (dd) {
      const d = this.scratchBytes(4);
      writeDigest(d, 0, dataDigest(data));
      this.out.push(d);
    }
  }

  private releaseAll(): void {
    for (const r of this.releases.splice(0)) r();
  }

  private scheduleFlush(): void {
    if (this.inHandler || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  /** One corked write for everything queued (DESIGN.md §10). */
  private flush(): void {
    this.coalescer.flushed();
    if (this.out.length === 0 || this.phase === Phase.CLOSED || this.socket.destroyed) {
      this.out.length = 0;
      this.releaseAll();
      if (this.socket.writableLength === 0) this.scratchUsed = 0;
      return;
    }
    const parts = this.out;
    const last = parts.length - 1;
    // Data-In views of pool buffers go back to the pool once the batch is written.
    const released = this.releases.length > 0 ? this.releases.splice(0) : undefined;
    this.socket.cork();
    for (let i = 0; i < last; i++) this.socket.write(parts[i]);
    if (released) this.socket.write(parts[last], () => { for (const r of released) r(); });
    else this.socket.write(parts[last]);
    this.socket.uncork();
    parts.length = 0;
    // The initiator's next command is likely on its way: poll for it instead of sleeping.
    this.busyPoll?.touch();
    // Headers in the scratch are referenced by the write until it completes.
    if (this.socket.writableLength === 0) this.scratchUsed = 0;
    else {
      this.scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
      this.scratchUsed = 0;
    }
    // Back-pressure: stop reading while the initiator is not draining our responses.
    if (this.socket.writableNeedDrain && this.phase === Phase.FULL_FEATURE) {
      this.socket.pause();
      this.socket.once('drain', () => this.socket.resume());
    }
  }

  private closeAfterFlush(reason: string): void {
    if (this.phase === Phase.CLOSED) return;
    this.phase = Phase.CLOSING;
    this.pinger?.stop();
    this.flush();
    this.ctx.log.debug({ remote: this.remote, reason }, 'closing connection');
    this.socket.end(() => this.destroy(reason));
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.destroy(reason), 2000).unref();
    if (this.inHandler) this.scheduleFlush();
  }

  /**
   * Drop the connection now. Its session, if still bound to it, is lost (RFC 7143 6.3 at ERL 0):
   * the nexus closes with 'loss' and every task of it is aborted.
   */
  destroy(reason: string): void {
    if (this.phase === Phase.CLOSED) return;
    if (this.phase === Phase.HANDING_OFF) {
      // The socket is the hand-off's now (it closes this copy once the thread has a duplicate).
      this.phase = Phase.CLOSED;
      this.endReason = reason;
      this.closedResolve();
      return;
    }
    this.phase = Phase.CLOSED;
    this.endReason = reason;
    this.pinger?.stop();
    this.out.length = 0;
    this.releaseAll();
    const gone = this.abortAll();
    this.textPending = undefined;
    const s = this.session;
    const finish = (): void => this.closedResolve();
    if (s && s.connection === this) {
      s.connection = undefined;
      this.ctx.sessions.remove(s);
      this.ctx.log.info({ remote: this.remote, initiator: s.id.initiatorName, tsih: s.id.tsih, reason }, 'session lost');
      s.end('loss').then(finish, (err: unknown) => {
        this.ctx.log.error({ err }, 'closing the session failed');
        finish();
      });
    } else {
      finish();
    }
    // After the nexus closed (its tasks are marked aborted): end the engine's wait for Data-Out.
    this.failData(gone);
    this.socket.destroy();
  }
}

/** `view` starts at the first byte of `buf` (the immediate data was assembled in place). */
function sameMemory(buf: Buffer, view: Uint8Array): boolean {
  return view.length > 0 && view.buffer === buf.buffer && view.byteOffset === buf.byteOffset;
}
