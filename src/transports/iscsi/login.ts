// RFC 7143 6.3 / 11.12-11.13: the target side of login as a pure reducer with a transition table.
// Each event (a decoded Login Request, or the TSIH the connection allocated) goes to the
// transition of the current phase; a transition returns the next state, the Login Responses to
// send and the effects for the connection to carry out (allocate a TSIH, reinstate, create or
// bind a session, enter the full feature phase, fail). The state is immutable: no transition
// changes the state it was given. What the reducer needs to know of the outside world (targets,
// authorization, live sessions) comes through LoginPolicy; the CHAP challenge's random bytes
// come with the options the state was created with.
import type { LoginRequest } from './initiator-pdu';
import type { LoginResponseFields } from './target-pdu';
import { ISCSI_VERSION, LoginStage, LoginStatus } from './spec';
import { EMPTY_TEXT_SET, TextSet, accumulateText, encodeText, splitText } from './text';
import { KeyAnswer, TargetNegotiationConfig, maxValueLength } from './keys';
import {
  NegotiationState, OperationalParams, createNegotiation, negotiateKeys, negotiateList,
  offersPending, targetOffers,
} from './negotiate';
import {
  ChapAlgorithm, ChapChallenge, chapResponse, createChallenge, decodeChapBinary, encodeChapHex, isReflectedChallenge,
  selectChapAlgorithm, verifyChapResponse,
} from './chap';
import { NexusError } from '../../engine/result';

export type SessionType = 'Normal' | 'Discovery';

export interface ChapCredentials {
  user: string;
  secret: string;
}

/** What the target requires of one initiator: CHAP credentials it checks, and what it answers mutual CHAP with. */
export interface AuthRequirement {
  chap?: ChapCredentials;
  mutual?: ChapCredentials;
}

/** Read-only questions the reducer asks about the outside world (it changes nothing through them). */
export interface LoginPolicy {
  targetExists(targetName: string): boolean;
  /** 'deny' refuses the initiator (authorization failure); {} means no authentication. */
  authFor(initiatorName: string, targetName: string | undefined, sessionType: SessionType): AuthRequirement | 'deny';
  /** RFC 7143 4.4.3: TSIH of a live session with this ISID and initiator name on this target. */
  findSession(initiatorName: string, isid: number, targetName: string | undefined): number | undefined;
  /**
   * RFC 7143 6.3.1: whether a nonzero TSIH names a live session of this initiator and ISID, to
   * `targetName` through the portal group this login came in on (RFC 7143 4.4.1: a session's
   * connections all belong to one target portal group); `targetName` undefined: discovery.
   */
  sessionExists(tsih: number, initiatorName: string, isid: number, targetName: string | undefined): boolean;
  /**
   * RFC 7143 4.4.1 / 13.9: the Target Portal Group Tag of `targetName` on the portal this login
   * came in on (each target port group of the target is its own target portal group).
   */
  portalGroupTag(targetName: string): number;
}

export interface LoginOptions {
  config: TargetNegotiationConfig;
  targetAlias?: string;
  /** StatSN of the first Login Response on this connection. */
  initialStatSN?: number;
  /** Commands the initiator may send after login: MaxCmdSN = ExpCmdSN + window - 1. */
  cmdWindow?: number;
  chapAlgorithms?: readonly ChapAlgorithm[];
  /**
   * RFC 7143 12.1.3: the random bytes of this login's CHAP challenge (CHAP_I, then CHAP_C), at
   * least CHAP_CHALLENGE_RANDOM_BYTES, drawn by the connection: the reducer stays a function of
   * its inputs.
   */
  chapEntropy: Uint8Array;
}

export enum LoginPhase {
  /** No request received yet. */
  START = 'start',
  NEGOTIATING = 'negotiating',
  /** A long answer is being fetched with empty requests (RFC 7143 11.13.3). */
  CONTINUING = 'continuing',
  /** The login may end: the connection is to allocate the new session's TSIH (RFC 7143 11.12.6). */
  ALLOCATING_TSIH = 'allocating-tsih',
  FULL_FEATURE = 'full-feature',
  FAILED = 'failed',
}

export enum AuthStep {
  /** AuthMethod not yet settled. */
  METHOD = 'method',
  WAIT_CHAP_A = 'wait-chap-a',
  WAIT_CHAP_R = 'wait-chap-r',
  DONE = 'done',
}

export interface LoginState {
  readonly phase: LoginPhase;
  readonly stage: LoginStage;
  readonly isid: number;
  readonly tsih: number;
  readonly cid: number;
  readonly initiatorName?: string;
  readonly targetName?: string;
  readonly sessionType: SessionType;
  readonly auth: AuthStep;
  readonly required?: AuthRequirement;
  readonly chapAlg?: ChapAlgorithm;
  readonly chap?: ChapChallenge;
  readonly negotiation: NegotiationState;
  readonly statSN: number;
  /** CONTINUING: response text chunks still to send with C=1, and the response to finish with. */
  readonly outgoing?: { readonly chunks: readonly Buffer[]; readonly final: PendingFinal };
  /** ALLOCATING_TSIH: the request being answered and the answer text, until the TSIH is known. */
  readonly awaiting?: {
    readonly req: LoginRequest;
    readonly answers: ReadonlyArray<readonly [string, string]>;
    /** TSIH of the live session the new one reinstates (RFC 7143 6.3.5). */
    readonly reinstate: number | undefined;
  };
  /** Text of Login Requests sent with C=1, until the set ends. */
  readonly text: TextSet;
  readonly options: LoginOptions;
}

interface PendingFinal {
  readonly transit: boolean;
  readonly nsg: LoginStage;
  readonly tsih: number;
  readonly effects: readonly LoginEffect[];
  readonly phase: LoginPhase;
  readonly stage: LoginStage;
}

export type LoginEffect =
  /** Allocate a TSIH for the new session and answer with loginTsihAllocated(). */
  | { kind: 'allocate-tsih' }
  | { kind: 'reinstate-session'; tsih: number }
  | {
      kind: 'create-session';
      tsih: number;
      isid: number;
      initiatorName: string;
      targetName: string | undefined;
      sessionType: SessionType;
      cmdSN: number;
    }
  | { kind: 'bind-connection'; tsih: number; cid: number }
  /** Apply after sending the final response: digests and MaxRecvDataSegmentLength on the framer. */
  | { kind: 'full-feature'; params: OperationalParams }
  | { kind: 'fail'; status: LoginStatus; reason: string };

export interface LoginResponse {
  fields: Omit<LoginResponseFields, 'dataSegmentLength'>;
  data: Buffer;
}

export interface LoginResult {
  state: LoginState;
  responses: LoginResponse[];
  effects: LoginEffect[];
}

const SUPPORTED_CHAP: readonly ChapAlgorithm[] = [ChapAlgorithm.SHA256, ChapAlgorithm.MD5];
/** RFC 7143 13.12: during login both sides accept 8192-byte data segments. */
const LOGIN_SEGMENT = 8192;
const EMPTY = Buffer.alloc(0);

export function createLoginState(options: LoginOptions): LoginState {
  return {
    phase: LoginPhase.START,
    stage: LoginStage.SECURITY_NEGOTIATION,
    isid: 0,
    tsih: 0,
    cid: 0,
    sessionType: 'Normal',
    auth: AuthStep.METHOD,
    negotiation: createNegotiation(options.config),
    statSN: (options.initialStatSN ?? 0) >>> 0,
    text: EMPTY_TEXT_SET,
    options,
  };
}

function cloneNegotiation(n: NegotiationState): NegotiationState {
  return { params: { ...n.params }, seen: new Set(n.seen), pending: new Map(n.pending), declaredMaxRecv: n.declaredMaxRecv };
}

/** A transition's working copy of the state: a fresh object, so changing it leaves `prev` alone. */
type Draft = { -readonly [K in keyof LoginState]: LoginState[K] };

function draft(prev: LoginState): Draft {
  return { ...prev, negotiation: cloneNegotiation(prev.negotiation) };
}

function response(
  s: Draft,
  req: LoginRequest,
  o: { transit: boolean; cont: boolean; nsg: LoginStage; status: LoginStatus; tsih: number; stage: LoginStage },
  data: Buffer,
): LoginResponse {
  const window = s.options.cmdWindow ?? 32;
  const r: LoginResponse = {
    fields: {
      transit: o.transit,
      continue: o.cont,
      csg: o.stage,
      nsg: o.transit ? o.nsg : 0,
      versionMax: ISCSI_VERSION,
      versionActive: ISCSI_VERSION,
      isid: req.isid,
      tsih: o.tsih,
      itt: req.itt,
      statSN: s.statSN,
      expCmdSN: req.cmdSN,
      maxCmdSN: (req.cmdSN + Math.max(1, window) - 1) >>> 0,
      status: o.status,
    },
    data,
  };
  s.statSN = (s.statSN + 1) >>> 0;
  return r;
}

function failWith(s: Draft, req: LoginRequest, status: LoginStatus, reason: string): LoginResult {
  // RFC 7143 11.13.5: a failed login answers with T=0 and the status, then the connection closes.
  const r = response(s, req, { transit: false, cont: false, nsg: 0, status, tsih: 0, stage: s.stage }, EMPTY);
  s.phase = LoginPhase.FAILED;
  s.outgoing = undefined;
  s.awaiting = undefined;
  return { state: s, responses: [r], effects: [{ kind: 'fail', status, reason }] };
}

/** Send the answer text, splitting it over C=1 responses when it exceeds the login segment size. */
function finish(s: Draft, req: LoginRequest, answers: ReadonlyArray<readonly [string, string]>, final: PendingFinal): LoginResult {
  const limit = Math.min(LOGIN_SEGMENT, s.negotiation.params.maxXmitDataSegmentLength);
  const chunks = splitText(encodeText(answers), limit);
  if (chunks.length > 1) {
    // RFC 7143 11.13.3: C=1 responses carry T=0; the initiator fetches the rest with empty requests.
    const r = response(s, req, { transit: false, cont: true, nsg: 0, status: LoginStatus.SUCCESS, tsih: 0, stage: s.stage }, chunks[0]);
    s.phase = LoginPhase.CONTINUING;
    s.outgoing = { chunks: chunks.slice(1), final };
    return { state: s, responses: [r], effects: [] };
  }
  return complete(s, req, chunks[0], final);
}

function complete(s: Draft, req: LoginRequest, data: Buffer, f: PendingFinal): LoginResult {
  const r = response(s, req, { transit: f.transit, cont: false, nsg: f.nsg, status: LoginStatus.SUCCESS, tsih: f.tsih, stage: s.stage }, data);
  s.phase = f.phase;
  s.stage = f.stage;
  s.outgoing = undefined;
  return { state: s, responses: [r], effects: [...f.effects] };
}

// ---------------------------------------------------------------- the transition table

type OnRequest = (prev: LoginState, req: LoginRequest, policy: LoginPolicy) => LoginResult;
type OnTsih = (prev: LoginState, tsih: number | null) => LoginResult;

/**
 * Phase → what a Login Request does there, and what the allocated TSIH does there. A missing
 * entry is an event the connection must not deliver in that phase (a bug, not initiator input).
 */
const TRANSITIONS: Readonly<Record<LoginPhase, { request?: OnRequest; tsih?: OnTsih }>> = {
  [LoginPhase.START]: { request: firstRequest },
  [LoginPhase.NEGOTIATING]: { request: nextRequest },
  [LoginPhase.CONTINUING]: { request: fetchContinued },
  [LoginPhase.ALLOCATING_TSIH]: { tsih: tsihAllocated },
  [LoginPhase.FULL_FEATURE]: { request: loginEnded },
  [LoginPhase.FAILED]: { request: loginEnded },
};

/** RFC 7143 6.3: one Login Request. Never throws on initiator input. */
export function loginStep(prev: LoginState, req: LoginRequest, policy: LoginPolicy): LoginResult {
  const t = TRANSITIONS[prev.phase].request;
  if (!t) throw new NexusError('ERR_LOGIN_EVENT', `a Login Request in login phase ${prev.phase}`);
  return t(prev, req, policy);
}

/** The TSIH the connection allocated for an allocate-tsih effect (null: none left). */
/**
 * RFC 7143 11.13.5: the login ends with `status` for a reason outside the login rules (a limit of
 * the connection's, login-exchange.ts): T=0, no keys, then the connection closes.
 */
export function loginRefused(prev: LoginState, req: LoginRequest, status: LoginStatus, reason: string): LoginResult {
  return failWith(draft(prev), req, status, reason);
}

export function loginTsihAllocated(prev: LoginState, tsih: number | null): LoginResult {
  const t = TRANSITIONS[prev.phase].tsih;
  if (!t) throw new NexusError('ERR_LOGIN_EVENT', `a TSIH in login phase ${prev.phase}`);
  return t(prev, tsih);
}

/** START: the first Login Request of the connection fixes version, stage, ISID, TSIH and CID. */
function firstRequest(prev: LoginState, req: LoginRequest, policy: LoginPolicy): LoginResult {
  const s = draft(prev);
  // RFC 7143 11.12.4: Version-min above what we speak.
  if (req.versionMin > ISCSI_VERSION) return failWith(s, req, LoginStatus.UNSUPPORTED_VERSION, 'unsupported version');
  if (req.csg !== LoginStage.SECURITY_NEGOTIATION && req.csg !== LoginStage.LOGIN_OPERATIONAL_NEGOTIATION) {
    return failWith(s, req, LoginStatus.INITIATOR_ERROR, 'first login request not in a negotiation stage');
  }
  s.phase = LoginPhase.NEGOTIATING;
  s.stage = req.csg;
  s.isid = req.isid;
  s.tsih = req.tsih;
  s.cid = req.cid;
  return negotiate(s, req, policy);
}

/** NEGOTIATING: a later Login Request of the same login. */
function nextRequest(prev: LoginState, req: LoginRequest, policy: LoginPolicy): LoginResult {
  const s = draft(prev);
  const bad = continuationError(s, req);
  if (bad) return failWith(s, req, LoginStatus.INITIATOR_ERROR, bad);
  return negotiate(s, req, policy);
}

/** CONTINUING: RFC 7143 11.13.3: the initiator collects a continued response with empty requests. */
function fetchContinued(prev: LoginState, req: LoginRequest): LoginResult {
  const s = draft(prev);
  const bad = continuationError(s, req);
  if (bad) return failWith(s, req, LoginStatus.INITIATOR_ERROR, bad);
  const outgoing = s.outgoing as NonNullable<LoginState['outgoing']>;
  if (req.data.length > 0) return failWith(s, req, LoginStatus.INITIATOR_ERROR, 'keys sent while a response was continued');
  const [next, ...rest] = outgoing.chunks;
  if (rest.length > 0) {
    s.outgoing = { chunks: rest, final: outgoing.final };
    const r = response(s, req, { transit: false, cont: true, nsg: 0, status: LoginStatus.SUCCESS, tsih: 0, stage: s.stage }, next);
    return { state: s, responses: [r], effects: [] };
  }
  return complete(s, req, next, outgoing.final);
}

/** FULL_FEATURE or FAILED: RFC 7143 11.13.5: a Login Request after the login ended (02 0b). */
function loginEnded(prev: LoginState, req: LoginRequest): LoginResult {
  return failWith(draft(prev), req, LoginStatus.INVALID_DURING_LOGIN, 'login request after login ended');
}

/**
 * ALLOCATING_TSIH: RFC 7143 6.3.5 / 11.12.6: the new session's TSIH is known (or none is left,
 * 03 02); a live session with the same initiator port is reinstated by the new one.
 */
function tsihAllocated(prev: LoginState, tsih: number | null): LoginResult {
  const s = draft(prev);
  const { req, answers, reinstate } = s.awaiting as NonNullable<LoginState['awaiting']>;
  s.awaiting = undefined;
  if (tsih === null) return failWith(s, req, LoginStatus.OUT_OF_RESOURCES, 'no TSIH available');
  const effects: LoginEffect[] = [];
  if (reinstate !== undefined) effects.push({ kind: 'reinstate-session', tsih: reinstate });
  effects.push({
    kind: 'create-session', tsih, isid: s.isid, initiatorName: s.initiatorName as string, targetName: s.targetName,
    sessionType: s.sessionType, cmdSN: req.cmdSN,
  });
  effects.push({ kind: 'full-feature', params: { ...s.negotiation.params } });
  return finish(s, req, answers, { transit: true, nsg: LoginStage.FULL_FEATURE_PHASE, tsih, effects, phase: LoginPhase.FULL_FEATURE, stage: s.stage });
}

/** RFC 7143 11.12.5-7 / 11.12.3: what must hold for every request after the first. */
function continuationError(s: Draft, req: LoginRequest): string | undefined {
  // RFC 7143 11.12.5-7: ISID, TSIH and CID stay the same throughout a login.
  if (req.isid !== s.isid || req.tsih !== s.tsih || req.cid !== s.cid) return 'ISID, TSIH or CID changed during login';
  if (req.csg !== s.stage) return 'CSG does not match the current stage';
  return undefined;
}

/** The keys of a request: identity, security, operational keys, then the transit decision. */
function negotiate(s: Draft, req: LoginRequest, policy: LoginPolicy): LoginResult {
  // RFC 7143 11.12.3: NSG must move forward to an existing stage.
  if (
    req.transit &&
    (req.nsg <= req.csg || (req.nsg !== LoginStage.LOGIN_OPERATIONAL_NEGOTIATION && req.nsg !== LoginStage.FULL_FEATURE_PHASE))
  ) {
    return failWith(s, req, LoginStatus.INITIATOR_ERROR, 'invalid NSG');
  }

  // RFC 7143 11.12.2: C=1 text is accumulated and acknowledged with an empty response.
  const acc = accumulateText(s.text, req.data, req.continue, { maxValueLength });
  s.text = acc.set;
  if (!acc.done) {
    const r = response(s, req, { transit: false, cont: false, nsg: 0, status: LoginStatus.SUCCESS, tsih: 0, stage: s.stage }, EMPTY);
    return { state: s, responses: [r], effects: [] };
  }
  if (!acc.result.ok) return failWith(s, req, LoginStatus.INITIATOR_ERROR, `bad login text: ${acc.result.error}`);
  const keys = new Map(acc.result.pairs);
  const answers: Array<[string, string]> = [];

  // --- identity: the first key set of the login declares who is talking to whom.
  if (s.initiatorName === undefined) {
    const initiatorName = keys.get('InitiatorName');
    // RFC 7143 13.6: InitiatorName is required in the first Login Request.
    if (!initiatorName) return failWith(s, req, LoginStatus.MISSING_PARAMETER, 'InitiatorName missing');
    const type = keys.get('SessionType') ?? 'Normal'; // RFC 7143 13.21: default Normal
    if (type !== 'Normal' && type !== 'Discovery') return failWith(s, req, LoginStatus.SESSION_TYPE_NOT_SUPPORTED, 'unknown SessionType');
    const targetName = keys.get('TargetName');
    if (type === 'Normal') {
      // RFC 7143 13.4: a normal session names its target.
      if (!targetName) return failWith(s, req, LoginStatus.MISSING_PARAMETER, 'TargetName missing');
      if (!policy.targetExists(targetName)) return failWith(s, req, LoginStatus.NOT_FOUND, 'no such target');
    }
    // RFC 7143 6.3.1: a nonzero TSIH adds a connection to an existing session.
    if (s.tsih !== 0 && !policy.sessionExists(s.tsih, initiatorName, s.isid, type === 'Normal' ? targetName : undefined)) {
      return failWith(s, req, LoginStatus.SESSION_DOES_NOT_EXIST, 'TSIH names no session');
    }
    const required = policy.authFor(initiatorName, type === 'Normal' ? targetName : undefined, type);
    if (required === 'deny') return failWith(s, req, LoginStatus.AUTHORIZATION_FAILURE, 'initiator not allowed');
    s.initiatorName = initiatorName;
    s.targetName = type === 'Normal' ? targetName : undefined;
    s.sessionType = type;
    s.required = required;
    // RFC 7143 13.9: the first response of a normal session carries TargetPortalGroupTag.
    if (type === 'Normal') {
      answers.push(['TargetPortalGroupTag', String(policy.portalGroupTag(targetName as string))]);
      if (s.options.targetAlias) answers.push(['TargetAlias', s.options.targetAlias]);
    }
  } else {
    for (const k of ['InitiatorName', 'TargetName', 'SessionType']) {
      if (keys.has(k)) return failWith(s, req, LoginStatus.INITIATOR_ERROR, `${k} declared twice`);
    }
  }
  keys.delete('InitiatorName');
  keys.delete('TargetName');
  keys.delete('SessionType');

  // --- security negotiation (RFC 7143 12.1)
  const secKeys = ['AuthMethod', 'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R'].filter((k) => keys.has(k));
  if (s.stage !== LoginStage.SECURITY_NEGOTIATION && secKeys.length > 0) {
    return failWith(s, req, LoginStatus.INITIATOR_ERROR, 'security key outside the security stage');
  }
  const chapRequired = s.required?.chap !== undefined;
  if (s.stage === LoginStage.SECURITY_NEGOTIATION) {
    const sec = securityStep(s, keys, answers);
    if (sec) return failWith(s, req, sec.status, sec.reason);
  } else if (chapRequired && s.auth !== AuthStep.DONE) {
    // RFC 7143 12: skipping the security stage when the target requires authentication.
    return failWith(s, req, LoginStatus.AUTHENTICATION_FAILURE, 'authentication required');
  }
  for (const k of secKeys) keys.delete(k);

  // --- operational keys (allowed in either stage)
  const ctx = { stage: s.stage, discovery: s.sessionType === 'Discovery', leading: s.tsih === 0 };
  const neg = negotiateKeys(s.negotiation, keys, ctx, s.options.config);
  if (!neg.ok) return failWith(s, req, LoginStatus.INITIATOR_ERROR, `${neg.error}: ${neg.key}`);
  answers.push(...neg.answers);

  // --- transit decision (RFC 7143 6.3: the target may hold the initiator in the current stage)
  let transit = req.transit;
  if (transit && s.stage === LoginStage.SECURITY_NEGOTIATION && s.auth !== AuthStep.DONE) {
    if (s.auth === AuthStep.METHOD && !chapRequired) s.auth = AuthStep.DONE;
    else if (s.auth === AuthStep.METHOD) return failWith(s, req, LoginStatus.AUTHENTICATION_FAILURE, 'no authentication method agreed');
    else transit = false; // CHAP still in progress
  }
  if (transit && req.nsg === LoginStage.FULL_FEATURE_PHASE) {
    answers.push(...targetOffers(s.negotiation, ctx, s.options.config));
    if (offersPending(s.negotiation)) transit = false;
  }
  if (!transit) {
    return finish(s, req, answers, { transit: false, nsg: 0, tsih: 0, effects: [], phase: LoginPhase.NEGOTIATING, stage: s.stage });
  }
  if (req.nsg === LoginStage.LOGIN_OPERATIONAL_NEGOTIATION) {
    return finish(s, req, answers, {
      transit: true, nsg: req.nsg, tsih: 0, effects: [], phase: LoginPhase.NEGOTIATING, stage: LoginStage.LOGIN_OPERATIONAL_NEGOTIATION,
    });
  }

  // --- into the full feature phase
  if (s.tsih === 0) {
    // RFC 7143 6.3.5: a new session with the ISID and name of a live one reinstates it. The new
    // session's TSIH is allocated by the connection (an effect), which answers with it.
    const reinstate = policy.findSession(s.initiatorName as string, s.isid, s.targetName);
    s.phase = LoginPhase.ALLOCATING_TSIH;
    s.awaiting = { req, answers, reinstate };
    return { state: s, responses: [], effects: [{ kind: 'allocate-tsih' }] };
  }
  const effects: LoginEffect[] = [{ kind: 'bind-connection', tsih: s.tsih, cid: s.cid }, { kind: 'full-feature', params: { ...s.negotiation.params } }];
  return finish(s, req, answers, {
    transit: true, nsg: LoginStage.FULL_FEATURE_PHASE, tsih: s.tsih, effects, phase: LoginPhase.FULL_FEATURE, stage: s.stage,
  });
}

/** RFC 7143 12.1.3: AuthMethod and the CHAP exchange. Returns a failure or undefined. */
function securityStep(
  s: Draft,
  keys: Map<string, string>,
  answers: Array<[string, string]>,
): { status: LoginStatus; reason: string } | undefined {
  const req = s.required ?? {};
  const authFail = (reason: string): { status: LoginStatus; reason: string } => ({ status: LoginStatus.AUTHENTICATION_FAILURE, reason });
  const protoFail = (reason: string): { status: LoginStatus; reason: string } => ({ status: LoginStatus.INITIATOR_ERROR, reason });
  const method = keys.get('AuthMethod');
  if (method !== undefined) {
    if (s.auth !== AuthStep.METHOD) return protoFail('AuthMethod offered twice');
    const choice = negotiateList(method, req.chap ? ['CHAP'] : ['None']);
    answers.push(['AuthMethod', choice]);
    if (choice === KeyAnswer.REJECT) return authFail(req.chap ? 'initiator does not offer CHAP' : 'initiator does not offer None');
    s.auth = choice === 'CHAP' ? AuthStep.WAIT_CHAP_A : AuthStep.DONE;
  }
  const chapA = keys.get('CHAP_A');
  if (chapA !== undefined) {
    if (s.auth !== AuthStep.WAIT_CHAP_A) return protoFail('CHAP_A out of order');
    const alg = selectChapAlgorithm(chapA, s.options.chapAlgorithms ?? SUPPORTED_CHAP);
    if (alg === null) return authFail('no common CHAP algorithm');
    const entropy = s.options.chapEntropy;
    const ch = createChallenge(alg, (n) => entropy.subarray(0, n));
    s.chapAlg = alg;
    s.chap = ch;
    s.auth = AuthStep.WAIT_CHAP_R;
    answers.push(['CHAP_A', String(alg)], ['CHAP_I', String(ch.id)], ['CHAP_C', encodeChapHex(ch.challenge)]);
  }
  const n = keys.get('CHAP_N');
  const r = keys.get('CHAP_R');
  const ci = keys.get('CHAP_I');
  const cc = keys.get('CHAP_C');
  if (n !== undefined || r !== undefined || ci !== undefined || cc !== undefined) {
    if (s.auth !== AuthStep.WAIT_CHAP_R || !s.chap || s.chapAlg === undefined || !req.chap) return protoFail('CHAP response out of order');
    if (n === undefined || r === undefined) return authFail('CHAP_N or CHAP_R missing');
    if (n !== req.chap.user || !verifyChapResponse(s.chapAlg, s.chap.id, req.chap.secret, s.chap.challenge, r)) {
      return authFail('CHAP response does not verify');
    }
    if (ci !== undefined || cc !== undefined) {
      // Mutual CHAP: the initiator authenticates the target.
      if (ci === undefined || cc === undefined) return authFail('mutual CHAP needs CHAP_I and CHAP_C');
      if (!req.mutual) return authFail('mutual CHAP requested but not configured');
      const id = /^[0-9]{1,3}$/.test(ci) ? Number(ci) : /^0x[0-9a-fA-F]{1,2}$/.test(ci) ? parseInt(ci.slice(2), 16) : NaN;
      const challenge = decodeChapBinary(cc);
      if (!(id >= 0 && id <= 255) || !challenge) return authFail('malformed mutual CHAP challenge');
      // RFC 7143 12.1.3: a target must refuse its own challenge reflected back.
      if (isReflectedChallenge(s.chap.challenge, challenge)) return authFail('reflected CHAP challenge');
      answers.push(['CHAP_N', req.mutual.user], ['CHAP_R', encodeChapHex(chapResponse(s.chapAlg, id, req.mutual.secret, challenge))]);
    }
    s.auth = AuthStep.DONE;
    s.chap = undefined;
  }
  return undefined;
}
