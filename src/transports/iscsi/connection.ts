// RFC 7143 3 / 6 / 7: one iSCSI connection, wired from its parts. Bytes come in through the
// framer (framer.ts); the login phase (login-exchange.ts over the pure reducer in login.ts) runs
// until the final Login Response; then the full feature phase (full-feature.ts) takes every
// initiator PDU, each handled by the module of its kind. Every target PDU produced while handling
// one socket chunk (or one batch of completions) goes out in one corked write (pdu-output.ts,
// DESIGN.md §10). ERL 0: any protocol error drops the connection and the session with it; a fault
// never leaves this connection.
import type { Duplex } from 'node:stream';
import { PduFramer, FramerError, DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH } from './framer';
import { decodeInitiatorPdu } from './initiator-pdu';
import { IscsiOp, RejectReason } from './spec';
import type { OperationalParams } from './negotiate';
import { IscsiSession, isidHex } from './session';
import { ConnectionStatistics, connectionCounters } from './connection-statistics';
import type { SessionStatistics } from '../fabric';
import { PduOutput } from './pdu-output';
import { LoginExchange } from './login-exchange';
import { FullFeaturePhase } from './full-feature';
import { queueReject } from './reject';
import type { ConnectionContext, FullFeatureHandOff, ResumeState } from './connection-context';

enum Phase {
  LOGIN = 'login',
  /** The login is over and the socket is moving to an engine thread; input is kept for it. */
  HANDING_OFF = 'handing-off',
  FULL_FEATURE = 'full-feature',
  /** A final response is being flushed; input is ignored. */
  CLOSING = 'closing',
  CLOSED = 'closed',
}

/** Smallest remainder of a data segment worth a recv(2) of its own (framer.receiveDataInPlace). */
const IN_PLACE_MIN_BYTES = 16 * 1024;
/** StatSN, ExpCmdSN and MaxCmdSN of a Reject sent before the full feature phase. */
const LOGIN_SEQ = { statSN: 0, expCmdSN: 0, maxCmdSN: 0 } as const;

export class IscsiConnection {
  private phase = Phase.LOGIN;
  private readonly framer: PduFramer;
  private readonly out: PduOutput;
  private readonly login: LoginExchange;
  /** The full feature phase, once the login has reached it on this thread. */
  private ffp: FullFeaturePhase | undefined;
  private closedResolve!: () => void;
  /** Resolves once the socket is gone and the session (if ours) is released. */
  readonly closed: Promise<void>;
  readonly remote: string;
  /** Why the connection ended (set when it closes). */
  endReason: string | undefined;
  /** Set by the last login step when the session moves to an engine thread. */
  private handOff: { session: IscsiSession; params: OperationalParams; statSN: number; cid: number; reinstating: boolean } | undefined;
  private handOffDue = false;
  /** Socket chunks that arrived while the hand-off is under way. */
  private readonly handOffInput: Buffer[] = [];
  /** PDUs and octets by opcode, digest errors (stats.get). */
  readonly statistics = new ConnectionStatistics();

  /**
   * `resume`: the connection starts in the full feature phase from a login done elsewhere (the
   * supervisor), on an engine thread; feed() the bytes read past the login before the socket's.
   */
  constructor(
    private readonly socket: Duplex & { remoteAddress?: string; remotePort?: number },
    readonly ctx: ConnectionContext,
    resume?: ResumeState,
  ) {
    this.closed = new Promise((r) => (this.closedResolve = r));
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.out = new PduOutput(socket, ctx.settings.busyPollMicros ?? 0, ctx.settings.sendTimeoutSec);
    this.out.statistics = this.statistics;
    this.login = new LoginExchange(ctx, this, this.out, this.remote);
    this.framer = new PduFramer(
      {
        pdu: (h, d) => this.onPdu(h, d),
        error: (e) => this.onFramerError(e),
      },
      {
        maxRecvDataSegmentLength: DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH,
        allocData: (n, h) => (this.phase === Phase.FULL_FEATURE && this.ffp ? this.ffp.landing(n, h) : Buffer.allocUnsafe(n)),
      },
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
    const nexus = ctx.engine.openNexus({ targetName: r.targetName, initiatorName: r.initiatorName, isid: r.isid, tpgt: r.tpgt, ...(r.portal ? { portal: r.portal } : {}) });
    const s = new IscsiSession(
      { tsih: r.tsih, isid: parseInt(r.isid, 16), initiatorName: r.initiatorName, targetName: r.targetName, type: 'Normal', tpgt: r.tpgt },
      r.expCmdSN, ctx.settings.queueDepth, nexus,
    );
    s.connection = this;
    ctx.sessions.add(s);
    this.enterFullFeature(s, r.params, r.statSN, r.cid);
    if (!nexus) {
      this.destroy('target gone');
      return;
    }
    // SAM-5 I_T nexus loss: an engine thread holding one of its units died; at ERL 0 the
    // connection goes and the initiator logs in again.
    if ('onLost' in nexus) (nexus as { onLost?: () => void }).onLost = () => this.destroy('nexus lost');
    this.ffp?.start();
  }

  /** RFC 7143 13.1 / 13.12: digests and our MaxRecvDataSegmentLength apply from now on. */
  private applyParams(params: OperationalParams): void {
    this.framer.setDigests(params.headerDigest, params.dataDigest);
    this.framer.setMaxRecvDataSegmentLength(params.maxRecvDataSegmentLength);
  }

  private enterFullFeature(s: IscsiSession, params: OperationalParams, statSN: number, cid: number): void {
    this.applyParams(params);
    this.out.setDigests(params.headerDigest, params.dataDigest);
    this.out.backpressure = true;
    const ffp = new FullFeaturePhase(this, this.out, s, params, statSN, cid);
    this.ffp = ffp;
    this.phase = Phase.FULL_FEATURE;
    // RFC 7143 11.9.1: a normal session in the full feature phase takes SCSI asynchronous events
    // (a discovery session has no nexus); the connection that carries it sends them.
    if (s.id.type === 'Normal' && s.nexus) {
      s.nexus.onAsyncEvent = (e) => {
        if (this.phase === Phase.FULL_FEATURE && this.ffp === ffp) ffp.reportScsiEvent(e.lun, e.sense);
      };
    }
  }

  /** Still in the login phase (loginTimeoutSec applies). */
  get isLoggingIn(): boolean {
    return this.phase === Phase.LOGIN;
  }

  get isFullFeature(): boolean {
    return this.phase === Phase.FULL_FEATURE;
  }

  /** The initiator this connection counts for (maxConnectionsPerInitiator), while it is served here. */
  get initiatorName(): string | undefined {
    return this.phase === Phase.LOGIN || this.phase === Phase.FULL_FEATURE ? this.login.initiatorName : undefined;
  }

  /** Bytes of its session's buffer budgets held now (maxDataOutMiBPerSession, maxDataInMiBPerSession). */
  get heldBuffers(): { dataOut: number; dataIn: number } {
    const c = this.ffp?.commands;
    return { dataOut: c?.dataOutBudget.held ?? 0, dataIn: c?.dataInBudget.held ?? 0 };
  }

  /** The statistics of this connection's session (one connection per session here) for stats.get. */
  sessionStatistics(): SessionStatistics | undefined {
    const ffp = this.ffp;
    if (!ffp) return undefined;
    const s = ffp.session.statistics;
    return {
      commands: s.commands, readCommands: s.readCommands, writeCommands: s.writeCommands, readBytes: s.readBytes, writeBytes: s.writeBytes,
      checkConditions: [...s.checkConditionsBySenseKey], otherErrors: s.otherErrors,
      latencyBuckets: [...s.latency.buckets], latencySumNs: [...s.latency.sumNs],
      taskSetDepth: ffp.commands.tasks.size,
      connections: [{ cid: ffp.cid, counters: connectionCounters(this.statistics) }],
    };
  }

  get sessionType(): 'Normal' | 'Discovery' | undefined {
    return this.session?.id.type;
  }

  private get session(): IscsiSession | undefined {
    return this.ffp?.session ?? this.login.session;
  }

  // ------------------------------------------------------------ input

  /** Every socket chunk enters here: an exception closes this connection only. */
  private onData(chunk: Buffer): void {
    if (this.phase === Phase.HANDING_OFF) {
      this.handOffInput.push(chunk);
      return;
    }
    if (this.phase === Phase.CLOSED || this.phase === Phase.CLOSING) return;
    const out = this.out;
    out.inHandler = true;
    try {
      this.framer.feed(chunk);
      const rx = this.ctx.receiver;
      if (rx !== undefined && this.phase === Phase.FULL_FEATURE) this.framer.receiveDataInPlace(rx, IN_PLACE_MIN_BYTES);
    } catch (e) {
      this.fault(e);
    } finally {
      out.inHandler = false;
      if (this.handOffDue) this.startHandOff();
      else out.flush();
    }
  }

  fault(e: unknown): void {
    this.ctx.log.error({ err: e, remote: this.remote }, 'iSCSI connection fault; closing the connection');
    this.destroy('internal fault');
  }

  private onFramerError(e: FramerError): void {
    if (e.kind === 'digest-error') {
      if (e.segment === 'data') this.statistics.dataDigestErrors++;
      else this.statistics.headerDigestErrors++;
    }
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

  private reject(reason: RejectReason, header: Uint8Array): void {
    if (this.ffp) this.ffp.reject(reason, header);
    else queueReject(this.out, LOGIN_SEQ, reason, header);
  }

  private onPdu(header: Buffer, data: Buffer): void {
    this.statistics.received(header[0], header.length + data.length);
    if (this.phase === Phase.FULL_FEATURE) {
      (this.ffp as FullFeaturePhase).receive(header, data);
      return;
    }
    if (this.phase !== Phase.LOGIN) return;
    const d = decodeInitiatorPdu(header, data);
    if (!d.ok) {
      this.ctx.log.warn({ remote: this.remote, detail: d.detail }, 'malformed PDU');
      this.closeAfterFlush(d.detail);
      return;
    }
    if (d.pdu.op !== IscsiOp.LOGIN_REQ) {
      // RFC 7143 6.3: nothing but Login Requests before the full feature phase.
      this.closeAfterFlush('non-login PDU during login');
      return;
    }
    const r = this.login.step(d.pdu);
    if (r.kind === 'failed') {
      this.closeAfterFlush('login failed');
      return;
    }
    if (r.kind !== 'full-feature') return;
    const s = r.session;
    if (this.ctx.handOff && s.id.type === 'Normal') {
      // DESIGN.md §3: the full feature phase runs on an engine thread. Nothing past this
      // Login Request is read here; what was read already travels with the socket.
      this.applyParams(r.params);
      this.handOff = r;
      this.phase = Phase.HANDING_OFF;
      this.framer.halt();
      this.socket.pause();
      this.handOffDue = true;
      return;
    }
    this.enterFullFeature(s, r.params, r.statSN, r.cid);
    this.ctx.log.info(
      { remote: this.remote, initiator: s.id.initiatorName, target: s.id.targetName, type: s.id.type, tsih: s.id.tsih },
      'login complete',
    );
    this.ffp?.start();
  }

  /** Moves the socket to an engine thread with the final Login Response and what was read past it. */
  private startHandOff(): void {
    this.handOffDue = false;
    const ho = this.ctx.handOff as FullFeatureHandOff;
    const h = this.handOff as NonNullable<IscsiConnection['handOff']>;
    const s = h.session;
    const rest = this.framer.takeRest();
    const leftover = this.handOffInput.length > 0 ? Buffer.concat([rest, ...this.handOffInput.splice(0)]) : rest;
    const finalResponse = this.out.take();
    const state: ResumeState = {
      targetName: s.id.targetName as string, initiatorName: s.id.initiatorName, isid: isidHex(s.id.isid), tsih: s.id.tsih,
      cid: h.cid, tpgt: s.id.tpgt, ...(this.ctx.portal ? { portal: this.ctx.portal } : {}), statSN: h.statSN, expCmdSN: s.window.expCmdSN, maxCmdSN: s.window.maxCmdSN,
      params: h.params,
    };
    const finish = (ok: boolean, detail: string): void => {
      if (ok) this.ctx.log.info({ remote: this.remote, initiator: state.initiatorName, tsih: state.tsih, thread: detail }, 'login complete; session on engine thread');
      else this.ctx.log.warn({ remote: this.remote, initiator: state.initiatorName, error: detail }, 'hand-off to an engine thread failed');
      if (this.phase === Phase.CLOSED) return;
      this.toClosed(ok ? 'handed off' : `hand-off failed: ${detail}`);
      if (!ok) this.socket.destroy();
      this.closedResolve();
    };
    ho.handOff({ socket: this.socket, state, leftover, finalResponse, reinstate: h.reinstating }).then(
      (r) => finish(r.ok, r.ok ? String(r.thread) : r.error),
      (err: unknown) => finish(false, (err as Error).message),
    );
  }

  /** RFC 7143 11.9.1: ask the initiator to log out (daemon shutdown). */
  requestLogout(seconds: number): void {
    if (this.phase !== Phase.FULL_FEATURE) return;
    this.ffp?.requestLogout(seconds);
  }

  // ------------------------------------------------------------ closing

  beginClosing(): void {
    if (this.phase === Phase.CLOSED) return;
    this.phase = Phase.CLOSING;
    // Input is ignored from now on: a peer that does not drain no longer stops our reading.
    this.out.backpressure = false;
  }

  private toClosed(reason: string): void {
    this.phase = Phase.CLOSED;
    this.out.closed = true;
    this.out.backpressure = false;
    this.endReason = reason;
  }

  closeAfterFlush(reason: string): void {
    if (this.phase === Phase.CLOSED) return;
    this.beginClosing();
    this.ffp?.stop();
    this.out.flush();
    this.ctx.log.debug({ remote: this.remote, reason }, 'closing connection');
    this.socket.end(() => this.destroy(reason));
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.destroy(reason), 2000).unref();
    if (this.out.inHandler) this.out.scheduleFlush();
  }

  /**
   * Drop the connection now. Its session, if still bound to it, is lost (RFC 7143 6.3 at ERL 0):
   * the nexus closes with 'loss' and every task of it is aborted.
   */
  destroy(reason: string): void {
    if (this.phase === Phase.CLOSED) return;
    if (this.phase === Phase.HANDING_OFF) {
      // The socket is the hand-off's now (it closes this copy once the thread has a duplicate).
      this.toClosed(reason);
      this.closedResolve();
      return;
    }
    this.toClosed(reason);
    this.out.discard();
    const gone = this.ffp?.end() ?? [];
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
    this.ffp?.commands.failData(gone);
    this.socket.destroy();
  }
}
