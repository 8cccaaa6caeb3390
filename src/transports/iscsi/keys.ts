// RFC 7143 13 (and RFC 7144 13.1-13.2): every login/text key as data. The negotiation rule is
// the key's type; who may send it, in which phase and with what scope is its metadata; where
// its negotiated value lands (OperationalParams), where the target's side comes from (a setting
// of the topology's `iscsi` section, with its default, or a value fixed by this target). The
// negotiation, the settings type, their defaults and their JSON schema are derived from it.

export enum KeyType {
  /** RFC 7143 6.2.1: responder picks the first value of the offered list it supports. */
  LIST = 'list',
  /** RFC 7143 6.2.2: result is offer AND ours. */
  BOOLEAN_AND = 'boolean-and',
  /** RFC 7143 6.2.2: result is offer OR ours. */
  BOOLEAN_OR = 'boolean-or',
  /** RFC 7143 6.2.2: result is the minimum of the two values. */
  NUMERIC_MIN = 'numeric-min',
  /** RFC 7143 6.2.2: result is the maximum of the two values. */
  NUMERIC_MAX = 'numeric-max',
  /** RFC 7143 6.1: declarative, each side states its own value, no answer. */
  NUMERIC_DECLARATIVE = 'numeric-declarative',
  STRING_DECLARATIVE = 'string-declarative',
}

export enum KeyPhase {
  SECURITY = 'security',
  OPERATIONAL = 'operational',
  /** Login (either stage) and full feature phase. */
  ANY = 'any',
  /** Text requests in full feature phase only (SendTargets). */
  FULL_FEATURE = 'full-feature',
}

export enum KeyScope {
  SESSION = 'session',
  CONNECTION = 'connection',
}

export enum KeySender {
  INITIATOR = 'initiator',
  TARGET = 'target',
  BOTH = 'both',
}

export interface KeyDef {
  readonly name: string;
  readonly type: KeyType;
  readonly phase: KeyPhase;
  readonly scope: KeyScope;
  readonly sender: KeySender;
  /** RFC default, as it appears on the wire. */
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
  /** Values a LIST key may take. */
  readonly values?: readonly string[];
  /** RFC 7143 6.3: negotiated only on the leading connection of a session. */
  readonly leadingOnly?: boolean;
  /** RFC 7143 6.1: value length limit when not 255 bytes. */
  readonly maxValueLength?: number;
  /** RFC 7143 4.3 / 13: answered Irrelevant in a discovery session. */
  readonly discoveryIrrelevant?: boolean;
  /** Keys RFC 7143 removed (markers) that RFC 3720 initiators still send. */
  readonly obsolete?: boolean;
  /** The OperationalParams and TargetNegotiationConfig field of a key the target negotiates. */
  readonly param?: string;
  /** RFC 7143 13.1: a digest key, whose parameter is whether CRC32C was chosen. */
  readonly digest?: boolean;
  /**
   * The setting of the topology's `iscsi` section that gives the target's side of the key, and
   * the value Nexus ships: not the RFC's conservative default but what Linux targets use on a LAN.
   */
  readonly setting?: { readonly name: string; readonly default: number | boolean | readonly string[] };
  /** The target's side when no setting gives it: what this target implements (ERL 0, one connection, in-order data). */
  readonly fixed?: number | boolean | readonly string[];
}

const MAX_24 = 0xffffff;
const S = KeyScope.SESSION;
const C = KeyScope.CONNECTION;
const OP = KeyPhase.OPERATIONAL;
const SEC = KeyPhase.SECURITY;

/** RFC 7143 12.1.3: CHAP binary values up to 1024 bytes, hex-encoded with a 0x prefix. */
const CHAP_BINARY_MAX = 2 + 2 * 1024;
/** RFC 7143 4.2.7.1: iSCSI names are at most 223 bytes. */
const ISCSI_NAME_MAX = 223;

export const KEY_TABLE = [
  // RFC 7143 13.1. Nexus offers both digests; the initiator's order decides (RFC 7143 6.2.1).
  {
    name: 'HeaderDigest', type: KeyType.LIST, phase: OP, scope: C, sender: KeySender.BOTH, default: 'None', values: ['None', 'CRC32C'],
    param: 'headerDigest', digest: true, setting: { name: 'headerDigest', default: ['None', 'CRC32C'] },
  },
  {
    name: 'DataDigest', type: KeyType.LIST, phase: OP, scope: C, sender: KeySender.BOTH, default: 'None', values: ['None', 'CRC32C'],
    param: 'dataDigest', digest: true, setting: { name: 'dataDigest', default: ['None', 'CRC32C'] },
  },
  // RFC 7143 13.2
  {
    name: 'MaxConnections', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '1', min: 1, max: 65535, leadingOnly: true,
    discoveryIrrelevant: true, param: 'maxConnections', fixed: 1,
  },
  // RFC 7143 13.3
  { name: 'SendTargets', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.FULL_FEATURE, scope: S, sender: KeySender.INITIATOR },
  // RFC 7143 13.4-13.9
  { name: 'TargetName', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.BOTH, leadingOnly: true, maxValueLength: ISCSI_NAME_MAX },
  { name: 'InitiatorName', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.INITIATOR, leadingOnly: true, maxValueLength: ISCSI_NAME_MAX },
  { name: 'TargetAlias', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.TARGET },
  { name: 'InitiatorAlias', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.INITIATOR },
  { name: 'TargetAddress', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.TARGET },
  { name: 'TargetPortalGroupTag', type: KeyType.NUMERIC_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.TARGET, min: 0, max: 65535 },
  // RFC 7143 13.10-13.14
  {
    name: 'InitialR2T', type: KeyType.BOOLEAN_OR, phase: OP, scope: S, sender: KeySender.BOTH, default: 'Yes', leadingOnly: true, discoveryIrrelevant: true,
    param: 'initialR2T', setting: { name: 'initialR2T', default: false },
  },
  {
    name: 'ImmediateData', type: KeyType.BOOLEAN_AND, phase: OP, scope: S, sender: KeySender.BOTH, default: 'Yes', leadingOnly: true, discoveryIrrelevant: true,
    param: 'immediateData', setting: { name: 'immediateData', default: true },
  },
  {
    name: 'MaxRecvDataSegmentLength', type: KeyType.NUMERIC_DECLARATIVE, phase: KeyPhase.ANY, scope: C, sender: KeySender.BOTH, default: '8192', min: 512, max: MAX_24,
    param: 'maxRecvDataSegmentLength', setting: { name: 'maxRecvDataSegmentLength', default: 262144 },
  },
  {
    name: 'MaxBurstLength', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '262144', min: 512, max: MAX_24, leadingOnly: true,
    discoveryIrrelevant: true, param: 'maxBurstLength', setting: { name: 'maxBurstLength', default: 1048576 },
  },
  {
    name: 'FirstBurstLength', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '65536', min: 512, max: MAX_24, leadingOnly: true,
    discoveryIrrelevant: true, param: 'firstBurstLength', setting: { name: 'firstBurstLength', default: 262144 },
  },
  // RFC 7143 13.15-13.20
  {
    name: 'DefaultTime2Wait', type: KeyType.NUMERIC_MAX, phase: OP, scope: S, sender: KeySender.BOTH, default: '2', min: 0, max: 3600, leadingOnly: true,
    param: 'defaultTime2Wait', setting: { name: 'defaultTime2Wait', default: 2 },
  },
  {
    name: 'DefaultTime2Retain', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '20', min: 0, max: 3600, leadingOnly: true,
    param: 'defaultTime2Retain', setting: { name: 'defaultTime2Retain', default: 20 },
  },
  {
    name: 'MaxOutstandingR2T', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '1', min: 1, max: 65535, leadingOnly: true,
    discoveryIrrelevant: true, param: 'maxOutstandingR2T', setting: { name: 'maxOutstandingR2T', default: 8 },
  },
  {
    name: 'DataPDUInOrder', type: KeyType.BOOLEAN_OR, phase: OP, scope: S, sender: KeySender.BOTH, default: 'Yes', leadingOnly: true, discoveryIrrelevant: true,
    param: 'dataPDUInOrder', fixed: true,
  },
  {
    name: 'DataSequenceInOrder', type: KeyType.BOOLEAN_OR, phase: OP, scope: S, sender: KeySender.BOTH, default: 'Yes', leadingOnly: true, discoveryIrrelevant: true,
    param: 'dataSequenceInOrder', fixed: true,
  },
  {
    name: 'ErrorRecoveryLevel', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '0', min: 0, max: 2, leadingOnly: true,
    param: 'errorRecoveryLevel', fixed: 0,
  },
  // RFC 7143 13.21
  { name: 'SessionType', type: KeyType.STRING_DECLARATIVE, phase: KeyPhase.ANY, scope: S, sender: KeySender.INITIATOR, default: 'Normal', leadingOnly: true, values: ['Discovery', 'Normal'] },
  // RFC 7143 12.1 / 13 (security)
  { name: 'AuthMethod', type: KeyType.LIST, phase: SEC, scope: C, sender: KeySender.BOTH, default: 'None', values: ['None', 'CHAP', 'KRB5', 'SRP', 'SPKM1', 'SPKM2'] },
  { name: 'CHAP_A', type: KeyType.LIST, phase: SEC, scope: C, sender: KeySender.BOTH },
  { name: 'CHAP_I', type: KeyType.STRING_DECLARATIVE, phase: SEC, scope: C, sender: KeySender.BOTH },
  { name: 'CHAP_C', type: KeyType.STRING_DECLARATIVE, phase: SEC, scope: C, sender: KeySender.BOTH, maxValueLength: CHAP_BINARY_MAX },
  { name: 'CHAP_N', type: KeyType.STRING_DECLARATIVE, phase: SEC, scope: C, sender: KeySender.BOTH },
  { name: 'CHAP_R', type: KeyType.STRING_DECLARATIVE, phase: SEC, scope: C, sender: KeySender.BOTH, maxValueLength: CHAP_BINARY_MAX },
  // RFC 7144 13.1-13.2
  {
    name: 'iSCSIProtocolLevel', type: KeyType.NUMERIC_MIN, phase: OP, scope: S, sender: KeySender.BOTH, default: '0', min: 0, max: 31, leadingOnly: true,
    param: 'iscsiProtocolLevel', fixed: 1,
  },
  {
    name: 'TaskReporting', type: KeyType.LIST, phase: OP, scope: S, sender: KeySender.BOTH, default: 'RFC3720', values: ['RFC3720', 'ResponseFence', 'FastAbort'],
    leadingOnly: true, discoveryIrrelevant: true, param: 'taskReporting', fixed: ['RFC3720'],
  },
  // RFC 3720 12.17-12.18 markers, removed by RFC 7143 but still sent by RFC 3720 initiators.
  { name: 'OFMarker', type: KeyType.BOOLEAN_AND, phase: OP, scope: C, sender: KeySender.BOTH, default: 'No', obsolete: true },
  { name: 'IFMarker', type: KeyType.BOOLEAN_AND, phase: OP, scope: C, sender: KeySender.BOTH, default: 'No', obsolete: true },
  { name: 'OFMarkInt', type: KeyType.NUMERIC_DECLARATIVE, phase: OP, scope: C, sender: KeySender.BOTH, obsolete: true },
  { name: 'IFMarkInt', type: KeyType.NUMERIC_DECLARATIVE, phase: OP, scope: C, sender: KeySender.BOTH, obsolete: true },
] as const satisfies readonly KeyDef[];

/** A row of the key table with its literal types (for the types derived from it). */
export type KeyRow = (typeof KEY_TABLE)[number];

/** The value a key's setting or parameter has in TypeScript: a list, a boolean or a number. */
export type KeyValue<R> = R extends { type: KeyType.LIST; values: readonly (infer V)[] }
  ? V[]
  : R extends { type: KeyType.BOOLEAN_AND | KeyType.BOOLEAN_OR }
    ? boolean
    : number;

/** The target's side of each negotiated key, by parameter name (RFC 7143 13). */
export type TargetNegotiationConfig = {
  readonly [R in Extract<KeyRow, { param: string }> as R['param']]: Readonly<KeyValue<R>>;
};

export const KEYS: ReadonlyMap<string, KeyDef> = new Map((KEY_TABLE as readonly KeyDef[]).map((k) => [k.name, k]));

export function keyDef(name: string): KeyDef | undefined {
  return KEYS.get(name);
}

/** RFC 7143 6.1: value length limit for a key (255 bytes unless the key says otherwise). */
export function maxValueLength(name: string): number {
  return KEYS.get(name)?.maxValueLength ?? 255;
}

/** RFC 7143 13.1 / 6.1: private extension keys start with "X-" or "X#". */
export function isExtensionKey(name: string): boolean {
  return name.startsWith('X-') || name.startsWith('X#');
}

/** RFC 7143 6.2: the three special answers. */
export enum KeyAnswer {
  NOT_UNDERSTOOD = 'NotUnderstood',
  IRRELEVANT = 'Irrelevant',
  REJECT = 'Reject',
}
