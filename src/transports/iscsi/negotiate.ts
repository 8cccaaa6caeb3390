// RFC 7143 6.2: operational parameter negotiation, target as responder. One pure function per
// key type; negotiateKeys applies them to a request's keys using the table in keys.ts and the
// target's configuration, and targetOffers lists what the target must offer itself.
import { KEY_TABLE, KeyAnswer, KeyDef, KeyPhase, KeySender, KeyType, TargetNegotiationConfig, keyDef } from './keys';
import { LoginStage } from './spec';

// ---------------------------------------------------------------- per-type functions

/** RFC 7143 6.1: numerical-value is decimal or 0x hex. NaN when malformed. */
export function parseNumber(v: string): number {
  if (/^[0-9]{1,10}$/.test(v)) return Number(v);
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(v)) return parseInt(v.slice(2), 16);
  return NaN;
}

/** RFC 7143 6.2.1: the first value of the initiator's list that the target allows, else Reject. */
export function negotiateList(offer: string, allowed: readonly string[]): string {
  for (const v of offer.split(',')) if (allowed.includes(v)) return v;
  return KeyAnswer.REJECT;
}

function parseBool(v: string): boolean | undefined {
  return v === 'Yes' ? true : v === 'No' ? false : undefined;
}
const yesNo = (b: boolean): string => (b ? 'Yes' : 'No');

/** RFC 7143 6.2.2: boolean AND (e.g. ImmediateData). */
export function negotiateBooleanAnd(offer: string, ours: boolean): string {
  const b = parseBool(offer);
  return b === undefined ? KeyAnswer.REJECT : yesNo(b && ours);
}

/** RFC 7143 6.2.2: boolean OR (e.g. InitialR2T). */
export function negotiateBooleanOr(offer: string, ours: boolean): string {
  const b = parseBool(offer);
  return b === undefined ? KeyAnswer.REJECT : yesNo(b || ours);
}

export interface Range {
  min: number;
  max: number;
}

/** RFC 7143 6.2.2: minimum; an out-of-range or malformed offer is answered Reject. */
export function negotiateNumericMin(offer: string, ours: number, range: Range): string {
  const n = parseNumber(offer);
  if (!(n >= range.min && n <= range.max)) return KeyAnswer.REJECT;
  return String(Math.min(n, ours));
}

/** RFC 7143 6.2.2: maximum. */
export function negotiateNumericMax(offer: string, ours: number, range: Range): string {
  const n = parseNumber(offer);
  if (!(n >= range.min && n <= range.max)) return KeyAnswer.REJECT;
  return String(Math.max(n, ours));
}

/** RFC 7143 6.1: declarative numbers are recorded, not answered; NaN when invalid. */
export function declareNumeric(offer: string, range: Range): number {
  const n = parseNumber(offer);
  return n >= range.min && n <= range.max ? n : NaN;
}

// ---------------------------------------------------------------- configuration and result

export type DigestName = 'CRC32C' | 'None';

/** The negotiated values the session and connection run with. */
export interface OperationalParams {
  headerDigest: boolean;
  dataDigest: boolean;
  maxConnections: number;
  initialR2T: boolean;
  immediateData: boolean;
  /** Ours: the largest data segment we accept (the framer limit). */
  maxRecvDataSegmentLength: number;
  /** The initiator's declared MaxRecvDataSegmentLength: the largest segment we may send. */
  maxXmitDataSegmentLength: number;
  maxBurstLength: number;
  firstBurstLength: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  maxOutstandingR2T: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  iscsiProtocolLevel: number;
  taskReporting: string;
  initiatorAlias?: string;
}

/** What a field of OperationalParams holds. */
export type ParamKind = 'boolean' | 'string' | 'number';

/** A negotiated key's parameter: a digest flag or a boolean, a string (lists too), or a number. */
function paramKind(def: KeyDef): ParamKind {
  if (def.digest) return 'boolean';
  switch (def.type) {
    case KeyType.BOOLEAN_AND:
    case KeyType.BOOLEAN_OR:
      return 'boolean';
    case KeyType.LIST:
    case KeyType.STRING_DECLARATIVE:
      return 'string';
    default:
      return 'number';
  }
}

/** A negotiated value as OperationalParams holds it. */
function paramValue(def: KeyDef, value: string): number | boolean | string {
  if (def.digest) return value === 'CRC32C';
  const kind = paramKind(def);
  return kind === 'boolean' ? value === 'Yes' : kind === 'string' ? value : parseNumber(value);
}

/** Keys the target negotiates (those with a parameter), from the key table. */
const PARAM_KEYS: readonly KeyDef[] = (KEY_TABLE as readonly KeyDef[]).filter((k) => k.param !== undefined);

/**
 * Every field of OperationalParams with what it holds: one per negotiated key of the table, and
 * the two no key's parameter is: the initiator's declared MaxRecvDataSegmentLength (RFC 7143
 * 13.12, the largest segment we send) and its InitiatorAlias (13.6, when it sent one).
 */
export const OPERATIONAL_PARAM_FIELDS: readonly { readonly name: keyof OperationalParams; readonly kind: ParamKind; readonly optional?: true }[] = [
  ...PARAM_KEYS.map((k) => ({ name: k.param as keyof OperationalParams, kind: paramKind(k) })),
  { name: 'maxXmitDataSegmentLength', kind: 'number' },
  { name: 'initiatorAlias', kind: 'string', optional: true },
];

/**
 * RFC 7143 13: the parameters before anything is negotiated, the RFC default of every key (8192
 * both ways for the data segment), except our MaxRecvDataSegmentLength, which we declare.
 */
export function defaultParams(config: TargetNegotiationConfig): OperationalParams {
  const p: Record<string, unknown> = {};
  for (const k of PARAM_KEYS) p[k.param as string] = paramValue(k, k.default as string);
  const params = p as unknown as OperationalParams;
  params.maxXmitDataSegmentLength = params.maxRecvDataSegmentLength;
  params.maxRecvDataSegmentLength = config.maxRecvDataSegmentLength;
  return params;
}

export interface NegotiationState {
  params: OperationalParams;
  /** Keys already negotiated or declared by the initiator in this login. */
  readonly seen: Set<string>;
  /** Keys the target offered and whose answers are awaited, with the offered value. */
  readonly pending: Map<string, string>;
  /** Whether the target has declared its MaxRecvDataSegmentLength. */
  declaredMaxRecv: boolean;
}

export function createNegotiation(config: TargetNegotiationConfig): NegotiationState {
  return { params: defaultParams(config), seen: new Set(), pending: new Map(), declaredMaxRecv: false };
}

export interface NegotiationContext {
  stage: LoginStage;
  discovery: boolean;
  leading: boolean;
}

export type NegotiateOutcome =
  | { ok: true; answers: Array<[string, string]> }
  | { ok: false; error: 'renegotiated' | 'bad-answer' | 'wrong-phase'; key: string };

function range(def: KeyDef): Range {
  return { min: def.min ?? 0, max: def.max ?? 0xffffffff };
}

/** Store a negotiated value in the typed parameter set. */
function apply(p: OperationalParams, def: KeyDef, value: string): void {
  if (def.param !== undefined) (p as unknown as Record<string, unknown>)[def.param] = paramValue(def, value);
}

/** The target's own value for a negotiated key, as the per-type function takes it. */
function ours(def: KeyDef, c: TargetNegotiationConfig): { list?: readonly string[]; bool?: boolean; num?: number } {
  const v = def.param === undefined ? undefined : (c as unknown as Record<string, unknown>)[def.param];
  if (Array.isArray(v)) return { list: v as readonly string[] };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number') return { num: v };
  return {};
}

/** RFC 7143 13.14: FirstBurstLength is irrelevant when InitialR2T=Yes and ImmediateData=No. */
function firstBurstIrrelevant(p: OperationalParams): boolean {
  return p.initialR2T && !p.immediateData;
}

/** Answer one key the initiator offered (not an answer to a target offer). */
function respond(def: KeyDef, value: string, st: NegotiationState, ctx: NegotiationContext, c: TargetNegotiationConfig): string | undefined {
  const p = st.params;
  if (def.obsolete) return def.type === KeyType.BOOLEAN_AND ? negotiateBooleanAnd(value, false) : KeyAnswer.IRRELEVANT;
  if (ctx.discovery && def.discoveryIrrelevant) return KeyAnswer.IRRELEVANT;
  if (def.leadingOnly && !ctx.leading) return KeyAnswer.IRRELEVANT;
  if (def.name === 'FirstBurstLength' && firstBurstIrrelevant(p)) return KeyAnswer.IRRELEVANT;
  const o = ours(def, c);
  let answer: string;
  switch (def.type) {
    case KeyType.LIST: answer = negotiateList(value, o.list ?? []); break;
    case KeyType.BOOLEAN_AND: answer = negotiateBooleanAnd(value, o.bool ?? false); break;
    case KeyType.BOOLEAN_OR: answer = negotiateBooleanOr(value, o.bool ?? false); break;
    case KeyType.NUMERIC_MIN: {
      // RFC 7143 13.14: FirstBurstLength never above MaxBurstLength.
      const mine = def.name === 'FirstBurstLength' ? Math.min(o.num ?? 0, p.maxBurstLength) : o.num ?? 0;
      answer = negotiateNumericMin(value, mine, range(def));
      break;
    }
    case KeyType.NUMERIC_MAX: answer = negotiateNumericMax(value, o.num ?? 0, range(def)); break;
    case KeyType.NUMERIC_DECLARATIVE: {
      if (def.name !== 'MaxRecvDataSegmentLength') return KeyAnswer.REJECT;
      const n = declareNumeric(value, range(def));
      if (Number.isNaN(n)) return KeyAnswer.REJECT;
      p.maxXmitDataSegmentLength = n;
      // RFC 7143 13.12: declarative per direction; we state ours once in return.
      if (st.declaredMaxRecv) return undefined;
      st.declaredMaxRecv = true;
      return String(p.maxRecvDataSegmentLength);
    }
    case KeyType.STRING_DECLARATIVE:
      if (def.name === 'InitiatorAlias') {
        p.initiatorAlias = value;
        return undefined;
      }
      return KeyAnswer.IRRELEVANT;
  }
  if (answer !== KeyAnswer.REJECT) apply(p, def, answer);
  return answer;
}

/** Check an initiator's answer to a value the target offered (RFC 7143 6.2). */
function acceptAnswer(def: KeyDef, offered: string, answer: string, p: OperationalParams): boolean {
  if (answer === KeyAnswer.REJECT || answer === KeyAnswer.IRRELEVANT || answer === KeyAnswer.NOT_UNDERSTOOD) return true;
  switch (def.type) {
    case KeyType.BOOLEAN_AND:
      if (negotiateBooleanAnd(answer, parseBool(offered) ?? false) !== answer) return false;
      break;
    case KeyType.BOOLEAN_OR:
      if (negotiateBooleanOr(answer, parseBool(offered) ?? false) !== answer) return false;
      break;
    case KeyType.NUMERIC_MIN:
      if (negotiateNumericMin(answer, parseNumber(offered), range(def)) !== String(parseNumber(answer))) return false;
      break;
    case KeyType.NUMERIC_MAX:
      if (negotiateNumericMax(answer, parseNumber(offered), range(def)) !== String(parseNumber(answer))) return false;
      break;
    default:
      return false;
  }
  apply(p, def, def.type === KeyType.NUMERIC_MIN || def.type === KeyType.NUMERIC_MAX ? String(parseNumber(answer)) : answer);
  return true;
}

/**
 * Process the operational keys of one login (or text) request. Security and identity keys
 * (AuthMethod, CHAP_*, InitiatorName, TargetName, SessionType) belong to login.ts and must be
 * removed from `pairs` first. Mutates `st`; returns the answers to send.
 */
export function negotiateKeys(
  st: NegotiationState,
  pairs: ReadonlyMap<string, string>,
  ctx: NegotiationContext,
  config: TargetNegotiationConfig,
): NegotiateOutcome {
  const answers: Array<[string, string]> = [];
  // RFC 7143 13.14: FirstBurstLength depends on InitialR2T, ImmediateData and MaxBurstLength.
  const ordered = [...pairs].sort(([a], [b]) => Number(a === 'FirstBurstLength') - Number(b === 'FirstBurstLength'));
  for (const [key, value] of ordered) {
    const def = keyDef(key);
    if (!def) {
      // RFC 7143 6.2: unknown and X- extension keys are answered NotUnderstood.
      answers.push([key, KeyAnswer.NOT_UNDERSTOOD]);
      continue;
    }
    const offered = st.pending.get(key);
    if (offered !== undefined) {
      st.pending.delete(key);
      st.seen.add(key);
      if (!acceptAnswer(def, offered, value, st.params)) return { ok: false, error: 'bad-answer', key };
      continue;
    }
    // RFC 7143 6.2: a key negotiated once in a login may not be offered again.
    if (st.seen.has(key)) return { ok: false, error: 'renegotiated', key };
    st.seen.add(key);
    if (def.phase === KeyPhase.SECURITY) return { ok: false, error: 'wrong-phase', key };
    if (def.phase === KeyPhase.FULL_FEATURE && ctx.stage !== LoginStage.FULL_FEATURE_PHASE) {
      answers.push([key, KeyAnswer.IRRELEVANT]);
      continue;
    }
    if (def.sender === KeySender.TARGET) {
      // A target-only key from the initiator.
      answers.push([key, KeyAnswer.REJECT]);
      continue;
    }
    const a = respond(def, value, st, ctx, config);
    if (a !== undefined) answers.push([key, a]);
  }
  return { ok: true, answers };
}

/**
 * RFC 7143 6.2: before leaving operational negotiation, the target offers the keys whose
 * default it cannot live with and that the initiator did not negotiate, and declares its own
 * MaxRecvDataSegmentLength. Offers are recorded as pending; the login must not transit while
 * any are unanswered.
 */
export function targetOffers(st: NegotiationState, ctx: NegotiationContext, c: TargetNegotiationConfig): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!st.declaredMaxRecv) {
    st.declaredMaxRecv = true;
    out.push(['MaxRecvDataSegmentLength', String(c.maxRecvDataSegmentLength)]);
  }
  if (ctx.discovery || !ctx.leading) return out;
  const p = st.params;
  const offer = (key: string, value: string): void => {
    if (st.seen.has(key) || st.pending.has(key)) return;
    st.pending.set(key, value);
    out.push([key, value]);
  };
  if (!c.immediateData && p.immediateData) offer('ImmediateData', 'No');
  if (c.maxBurstLength < p.maxBurstLength) offer('MaxBurstLength', String(c.maxBurstLength));
  const fb = Math.min(c.firstBurstLength, c.maxBurstLength);
  if (!(p.initialR2T && !(p.immediateData && c.immediateData)) && fb < p.firstBurstLength) offer('FirstBurstLength', String(fb));
  if (c.maxOutstandingR2T < p.maxOutstandingR2T) offer('MaxOutstandingR2T', String(c.maxOutstandingR2T));
  if (c.errorRecoveryLevel < p.errorRecoveryLevel) offer('ErrorRecoveryLevel', String(c.errorRecoveryLevel));
  return out;
}

/** Whether offers are still awaiting the initiator's answers. */
export function offersPending(st: NegotiationState): boolean {
  return st.pending.size > 0;
}
