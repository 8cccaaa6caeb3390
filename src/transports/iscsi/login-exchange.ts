// RFC 7143 6.3 / 6.3.4 / 6.3.5: the login phase of one connection. The pure reducer (login.ts)
// decides; this module answers its questions about the outside world (targets, auth, sessions:
// the LoginPolicy), draws the CHAP challenge's random bytes, sends its Login Responses and
// carries out its effects: a TSIH allocated and handed back to the reducer, and the session
// registry and the engine changed (create, reinstate, bind). It ends with the session and the
// negotiated parameters the full feature phase starts from.
import { randomBytes } from 'node:crypto';
import type { ConnectionContext } from './connection-context';
import type { LoginRequest } from './initiator-pdu';
import { encodeLoginResponse } from './target-pdu';
import {
  LoginEffect, LoginPhase, LoginPolicy, LoginResponse, LoginResult, LoginState, createLoginState, loginRefused, loginStep,
  loginTsihAllocated,
} from './login';
import { LoginStatus } from './spec';
import type { OperationalParams } from './negotiate';
import { IscsiSession, SessionConnection, isidHex } from './session';
import { authFor } from './target';
import { CHAP_CHALLENGE_RANDOM_BYTES } from './chap';
import { negotiationConfig, transportDefault } from './settings';
import type { PduOutput } from './pdu-output';

export type LoginOutcome =
  /** More Login Requests are expected. */
  | { kind: 'continue' }
  | { kind: 'failed' }
  | {
      kind: 'full-feature';
      session: IscsiSession;
      params: OperationalParams;
      /** The StatSN after the final Login Response. */
      statSN: number;
      cid: number;
      /** The new session replaces one hosted on an engine thread (RFC 7143 6.3.5 / 6.3.4). */
      reinstating: boolean;
    };

export class LoginExchange {
  private state: LoginState;
  private readonly policy: LoginPolicy;
  /** Created (or rebound) by the login's effects; the connection's session from then on. */
  session: IscsiSession | undefined;
  private reinstating = false;
  /** Login Requests received on this connection (maxLoginRequests). */
  private requests = 0;
  /** The initiator this connection counts for, once its name was admitted (maxConnectionsPerInitiator). */
  initiatorName: string | undefined;

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly conn: SessionConnection,
    private readonly out: PduOutput,
    private readonly remote: string,
  ) {
    this.state = createLoginState({
      config: negotiationConfig(ctx.settings),
      cmdWindow: ctx.settings.queueDepth,
      chapEntropy: randomBytes(CHAP_CHALLENGE_RANDOM_BYTES),
    });
    this.policy = loginPolicy(ctx);
  }

  /** One Login Request: its responses are queued and its effects applied. */
  step(req: LoginRequest): LoginOutcome {
    // A login that never converges (endless C=1 text, keys renegotiated in a loop) is cut off:
    // RFC 7143 11.13.5 Status-Class 2 (initiator error), detail 0.
    const max = this.ctx.settings.maxLoginRequests ?? transportDefault('maxLoginRequests');
    const refused = this.ctx.refuseLogin;
    let r = refused !== undefined
      // RFC 7143 11.13.5: a limit of the target's (login-rate.ts): Status-Class 3, detail 2.
      ? loginRefused(this.state, req, LoginStatus.OUT_OF_RESOURCES, refused)
      : ++this.requests > max
        ? loginRefused(this.state, req, LoginStatus.INITIATOR_ERROR, `more than ${max} Login Requests`)
        : loginStep(this.state, req, this.policy);
    if (this.initiatorName === undefined && r.state.initiatorName !== undefined) {
      const name = r.state.initiatorName;
      const reason = this.initiatorOverLimit(name);
      // RFC 7143 11.13.5: Status-Class 3, detail 2: the target lacks connection resources for it.
      if (reason !== undefined) r = loginRefused(this.state, req, LoginStatus.OUT_OF_RESOURCES, reason);
      else this.initiatorName = name;
    }
    let failed = false;
    let fullFeature: OperationalParams | undefined;
    for (;;) {
      this.state = r.state;
      for (const resp of r.responses) this.sendLoginResponse(resp);
      let next: LoginResult | undefined;
      for (const e of r.effects) {
        switch (e.kind) {
          case 'fail':
            failed = true;
            this.ctx.log.info({ remote: this.remote, status: e.status, reason: e.reason }, 'login failed');
            break;
          case 'full-feature':
            fullFeature = e.params;
            break;
          case 'allocate-tsih':
            // RFC 7143 11.12.6: the TSIH is the target's; the reducer continues with it.
            next = loginTsihAllocated(this.state, this.allocateTsih());
            break;
          default:
            this.applyEffect(e, req);
        }
      }
      if (!next) break;
      r = next;
    }
    if (failed || this.state.phase === LoginPhase.FAILED) return { kind: 'failed' };
    if (fullFeature && this.session) {
      return {
        kind: 'full-feature', session: this.session, params: fullFeature, statSN: this.state.statSN, cid: req.cid,
        reinstating: this.reinstating,
      };
    }
    return { kind: 'continue' };
  }

  /**
   * Why one more connection of `name` is refused, if it is: the initiator already holds
   * maxConnectionsPerInitiator connections (sessions and logins in progress), whatever its addresses.
   */
  private initiatorOverLimit(name: string): string | undefined {
    const held = this.ctx.initiatorConnections?.(name) ?? 0;
    const max = this.ctx.settings.maxConnectionsPerInitiator ?? transportDefault('maxConnectionsPerInitiator');
    if (held < max) return undefined;
    this.ctx.log.warn({ remote: this.remote, initiator: name, connections: held }, 'maxConnectionsPerInitiator reached; login refused');
    return `more than ${max} connections of this initiator`;
  }

  /**
   * A TSIH no session of this target uses, here or on an engine thread; null when none is left,
   * or when the portal group already hosts maxSessions sessions: the reducer then refuses the
   * login with Status-Class 3, detail 2 (out of resources, RFC 7143 11.13.5).
   */
  private allocateTsih(): number | null {
    const { sessions, handOff, settings } = this.ctx;
    const held = sessions.size + (handOff?.sessionCount() ?? 0);
    const max = settings.maxSessions ?? transportDefault('maxSessions');
    if (held >= max) {
      this.ctx.log.warn({ remote: this.remote, sessions: held }, 'maxSessions reached; login refused');
      return null;
    }
    if (!handOff) return sessions.allocateTsih();
    for (let i = 0; i < 0xffff; i++) {
      const t = sessions.allocateTsih();
      if (t === null) return null;
      if (!handOff.tsihInUse(t)) return t;
    }
    return null;
  }

  private applyEffect(e: Extract<LoginEffect, { kind: 'reinstate-session' | 'create-session' | 'bind-connection' }>, req: LoginRequest): void {
    const { ctx } = this;
    switch (e.kind) {
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
        const tpgt = e.sessionType === 'Normal' && e.targetName !== undefined ? ctx.portalGroupTag(e.targetName) : 0;
        if (ctx.handOff && e.sessionType === 'Normal') {
          // The nexus opens on the engine thread; this session only carries the login's numbering.
          this.session = new IscsiSession(
            { tsih: e.tsih, isid: e.isid, initiatorName: e.initiatorName, targetName: e.targetName, type: e.sessionType, tpgt },
            e.cmdSN, ctx.settings.queueDepth, undefined,
          );
          return;
        }
        const nexus = e.sessionType === 'Normal' && e.targetName !== undefined
          ? ctx.engine.openNexus({ targetName: e.targetName, initiatorName: e.initiatorName, isid: isidHex(e.isid), tpgt, ...(ctx.portal ? { portal: ctx.portal } : {}) })
          : undefined;
        const s = new IscsiSession(
          { tsih: e.tsih, isid: e.isid, initiatorName: e.initiatorName, targetName: e.targetName, type: e.sessionType, tpgt },
          e.cmdSN, ctx.settings.queueDepth, nexus,
        );
        s.connection = this.conn;
        ctx.sessions.add(s);
        this.session = s;
        return;
      }
      case 'bind-connection': {
        // RFC 7143 6.3.4 at ERL 0 with MaxConnections=1: connection reinstatement is session
        // reinstatement. The old connection and its tasks go; the session restarts under its TSIH.
        const old = ctx.sessions.get(e.tsih);
        const st = this.state;
        if (!old && ctx.handOff && st.initiatorName !== undefined && st.sessionType === 'Normal') {
          // Hosted on an engine thread: it is closed there, and the session restarts under its TSIH.
          this.reinstating = true;
          this.session = new IscsiSession(
            { tsih: e.tsih, isid: st.isid, initiatorName: st.initiatorName, targetName: st.targetName, type: 'Normal', tpgt: ctx.portalGroupTag(st.targetName as string) },
            req.cmdSN, ctx.settings.queueDepth, undefined,
          );
          return;
        }
        if (!old) return;
        this.dropSession(old, 'connection reinstated');
        const nexus = old.id.type === 'Normal' && old.id.targetName !== undefined
          ? ctx.engine.openNexus({ targetName: old.id.targetName, initiatorName: old.id.initiatorName, isid: isidHex(old.id.isid), tpgt: old.id.tpgt, ...(ctx.portal ? { portal: ctx.portal } : {}) })
          : undefined;
        const s = new IscsiSession({ ...old.id }, req.cmdSN, ctx.settings.queueDepth, nexus);
        s.connection = this.conn;
        ctx.sessions.add(s);
        this.session = s;
        return;
      }
    }
  }

  private dropSession(old: IscsiSession, reason: string): void {
    this.ctx.sessions.remove(old);
    const conn = old.connection;
    old.connection = undefined;
    conn?.destroy(reason);
    void old.end('loss').catch((err: unknown) => this.ctx.log.error({ err }, 'closing a reinstated session failed'));
  }

  private sendLoginResponse(r: LoginResponse): void {
    const bhs = this.out.bhs();
    encodeLoginResponse(bhs, 0, { ...r.fields, dataSegmentLength: r.data.length });
    // Digests are never used during login (RFC 7143 13.1).
    this.out.queue(bhs, r.data, false, false);
  }
}

/** The reducer's questions about targets, authentication and sessions, answered from the context. */
function loginPolicy(ctx: ConnectionContext): LoginPolicy {
  const ho = ctx.handOff;
  const common = {
    targetExists: (name: string) => {
      const cfg = ctx.engine.targetConfig(name);
      // A disabled target (SCST `enabled` 0) takes no new login: as if it did not exist here.
      return cfg?.driver === 'iscsi' && cfg.enabled !== false && ctx.portalTargets.includes(name);
    },
    authFor: (initiator: string, target: string | undefined, type: 'Normal' | 'Discovery') =>
      authFor(ctx.engine, ctx.portalTargets, initiator, target, type),
    portalGroupTag: (target: string) => ctx.portalGroupTag(target),
  };
  if (ho) {
    // Normal sessions live on engine threads, discovery sessions here.
    return {
      ...common,
      findSession: (initiator: string, isid: number, target: string | undefined) => target === undefined
        ? ctx.sessions.find(initiator, isid, target, 0)?.id.tsih
        : ho.findSession(initiator, isidHex(isid), target, ctx.portalGroupTag(target)),
      sessionExists: (tsih: number, initiator: string, isid: number, target: string | undefined) => {
        const s = ctx.sessions.get(tsih);
        if (s) return isSessionOf(s, ctx, initiator, isid, target);
        return target !== undefined && ho.sessionExists(tsih, initiator, isidHex(isid), target, ctx.portalGroupTag(target));
      },
    };
  }
  return {
    ...common,
    findSession: (initiator: string, isid: number, target: string | undefined) =>
      ctx.sessions.find(initiator, isid, target, target === undefined ? 0 : ctx.portalGroupTag(target))?.id.tsih,
    sessionExists: (tsih: number, initiator: string, isid: number, target: string | undefined) => {
      const s = ctx.sessions.get(tsih);
      return !!s && isSessionOf(s, ctx, initiator, isid, target);
    },
  };
}

/**
 * Whether `s` is the session of this initiator port to `target` through this connection's portal
 * group (RFC 7143 4.4.1: a session's connections all belong to one target portal group).
 */
function isSessionOf(s: IscsiSession, ctx: ConnectionContext, initiator: string, isid: number, target: string | undefined): boolean {
  if (s.id.initiatorName !== initiator || s.id.isid !== isid || s.id.targetName !== target) return false;
  return target === undefined || s.id.tpgt === ctx.portalGroupTag(target);
}
