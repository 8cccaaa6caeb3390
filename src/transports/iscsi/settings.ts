// The topology's `iscsi` section (DESIGN.md §7): the target's side of the negotiated keys, taken
// from the key table (keys.ts: a row's `setting` names it and gives its default, the key's range
// bounds it), plus the settings of this transport that are not keys (NOP-In pings, the CmdSN
// window, busy polling). The settings type, the defaults the loader fills in and the section's
// JSON schema are all derived from these two tables.
import { KEY_TABLE, KeyDef, KeyRow, KeyType, KeyValue, TargetNegotiationConfig } from './keys';

/** Settings of the `iscsi` section that are not iSCSI keys. */
const TRANSPORT_SETTINGS = [
  // RFC 7143 7.1.3: seconds between target NOP-In pings of an idle connection (0: never).
  { name: 'nopInIntervalSec', min: 0, max: 3600, default: 15 },
  // Microseconds a thread keeps polling its sockets after writing responses, instead of
  // sleeping, and its ring scheduler checks its rings (workers/busy-poll.ts); 0 = off. About one
  // initiator turn at queue depth 1 on loopback or a LAN.
  { name: 'busyPollMicros', min: 0, max: 10000, default: 50, optional: true },
  // Seconds to wait for the answer to a NOP-In before the connection is dropped (0: forever).
  { name: 'nopInTimeoutSec', min: 0, max: 3600, default: 10 },
  // RFC 7143 3.2.2.1: the CmdSN window, how many commands one session may have queued.
  { name: 'queueDepth', min: 1, max: 65536, default: 128 },
  // Seconds a write may wait for solicited or unsolicited Data-Out without any arriving before
  // its connection is dropped (RFC 7143 7.1.4.1 / 7.2: at ERL 0 the recovery is the connection's
  // and session's end, its tasks aborted). The command waits outside the task set meanwhile, so
  // this bounds what a silent initiator costs only itself: its buffers and its session.
  { name: 'dataOutTimeoutSec', min: 1, max: 3600, default: 15, optional: true },
  // Seconds from a connection's accept to its final Login Response (RFC 7143 6.3); a login that
  // has not finished by then is dropped, so half-open and slow logins hold no socket for long.
  { name: 'loginTimeoutSec', min: 1, max: 3600, default: 15, optional: true },
  // Login Requests one connection may send (RFC 7143 6.3: a login takes a handful); past this the
  // login is refused with Status-Class 2, detail 0 (initiator error, RFC 7143 11.13.5).
  { name: 'maxLoginRequests', min: 4, max: 4096, default: 64, optional: true },
  // Text Requests one unfinished text exchange may take (C=1 parts and fetches of a long answer,
  // RFC 7143 11.10); past this the request is rejected (protocol error) and the connection closes.
  { name: 'maxTextRequests', min: 4, max: 4096, default: 64, optional: true },
  // Seconds a connection may leave our responses unread while its reading is paused for
  // back-pressure; then it is dropped (its buffered responses are bounded by the CmdSN window).
  { name: 'sendTimeoutSec', min: 1, max: 3600, default: 30, optional: true },
  // TCP connections one source address may hold open in the listener's thread at once (logging
  // in, discovery, and sessions when there are no engine threads); one past it is closed at
  // accept, before any PDU is read, so a flood from one host costs a socket for a moment.
  // Generous: initiators behind one NAT or on one host share their address.
  { name: 'maxConnectionsPerAddress', min: 1, max: 65536, default: 1024, optional: true },
  // Connections one initiator name may hold at once, from any address: its sessions' (here and on
  // engine threads) and its logins in progress. The login that would exceed it is refused once
  // its InitiatorName is known, Status-Class 3, detail 2 (out of resources, RFC 7143 11.13.5).
  { name: 'maxConnectionsPerInitiator', min: 1, max: 65536, default: 64, optional: true },
  // Sessions the target portal group hosts at once (Normal and discovery, every target of its
  // portals, on every engine thread). A leading login past it is refused with Status-Class 3,
  // detail 2 (out of resources, RFC 7143 11.13.5).
  { name: 'maxSessions', min: 1, max: 65535, default: 1024, optional: true },
  // Logins per second one source address may start (login-rate.ts); one past the allowance is
  // refused with Status-Class 3, detail 2 (out of resources). Generous, as the address may be
  // shared.
  { name: 'maxLoginsPerSecond', min: 1, max: 100000, default: 200, optional: true },
  // MiB of Data-Out buffers one session may hold for its writes in transfer (each write's buffer
  // is reserved when its command arrives, up to the 32 MiB maximum transfer length). A write past
  // it is not solicited: TASK SET FULL, or BUSY when the session has nothing else in progress
  // (SAM-5 5.3.1), so 128 commands of 48 bytes cannot make the target reserve 4 GiB.
  { name: 'maxDataOutMiBPerSession', min: 1, max: 65536, default: 256, optional: true },
  // MiB of Data-In one session's reads may hold until their socket has taken it: a read's
  // Expected Data Transfer Length is reserved before it reaches the engine and given back once its
  // Data-In is written. A read past it is not executed: TASK SET FULL, or BUSY (SAM-5 5.3.1), so
  // an initiator that stops reading holds at most this much until sendTimeoutSec drops it.
  { name: 'maxDataInMiBPerSession', min: 1, max: 65536, default: 256, optional: true },
] as const;

/** The default of an optional transport setting (the loader fills it in; embedders may leave it out). */
export function transportDefault(name: Extract<TransportRow, { optional: true }>['name']): number {
  return TRANSPORT_SETTINGS.find((t) => t.name === name)!.default;
}

type TransportRow = (typeof TRANSPORT_SETTINGS)[number];
type SettingRow = Extract<KeyRow, { setting: object }>;

/** The topology's `iscsi` section after the loader filled in its defaults. */
export type IscsiSettings = { [R in SettingRow as R['setting']['name']]: KeyValue<R> } & {
  [R in Exclude<TransportRow, { optional: true }> as R['name']]: number;
} & {
  [R in Extract<TransportRow, { optional: true }> as R['name']]?: number;
};

declare module '../../engine/topology' {
  /** The `iscsi` section of the topology (DESIGN.md §7), declared from this side. */
  interface FabricSettings {
    iscsi: IscsiSettings;
  }
}

export type SettingName = keyof IscsiSettings;

/** One setting as the loader and the schema see it. */
export interface SettingSpec {
  readonly name: SettingName;
  readonly kind: 'integer' | 'boolean' | 'list';
  readonly min?: number;
  readonly max?: number;
  /** A list setting's allowed values. */
  readonly values?: readonly string[];
  readonly default: number | boolean | readonly string[];
  /** The section may leave it out (the loader still fills in its default). */
  readonly optional?: true;
}

function keySetting(k: KeyDef & { setting: NonNullable<KeyDef['setting']> }): SettingSpec {
  const kind = k.type === KeyType.LIST ? 'list' : k.type === KeyType.BOOLEAN_AND || k.type === KeyType.BOOLEAN_OR ? 'boolean' : 'integer';
  return {
    name: k.setting.name as SettingName, kind, min: k.min, max: k.max, values: k.values, default: k.setting.default,
  };
}

/** Every setting of the section: the keys' first (in key table order), then the transport's. */
export const ISCSI_SETTINGS: readonly SettingSpec[] = [
  ...(KEY_TABLE as readonly KeyDef[]).filter((k): k is KeyDef & { setting: NonNullable<KeyDef['setting']> } => k.setting !== undefined).map(keySetting),
  ...TRANSPORT_SETTINGS.map((t): SettingSpec => ({
    name: t.name, kind: 'integer', min: t.min, max: t.max, default: t.default, ...('optional' in t ? { optional: t.optional } : {}),
  })),
];

/** The defaults the loader fills in (lists copied, so a caller may change its own). */
export function defaultIscsiSettings(): IscsiSettings {
  const out: Record<string, unknown> = {};
  for (const s of ISCSI_SETTINGS) out[s.name] = Array.isArray(s.default) ? [...(s.default as readonly string[])] : s.default;
  return out as IscsiSettings;
}

/** JSON Schema of the section: RFC 7143 13 ranges from the key table, each object closed. */
export function iscsiSettingsSchema(): object {
  const properties: Record<string, object> = {};
  for (const s of ISCSI_SETTINGS) {
    if (s.kind === 'boolean') properties[s.name] = { type: 'boolean' };
    else if (s.kind === 'integer') properties[s.name] = { type: 'integer', minimum: s.min, maximum: s.max };
    else properties[s.name] = { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...(s.values ?? [])] } };
  }
  return { type: 'object', additionalProperties: false, properties };
}

/** Whether `v` is a well-typed value of setting `s` (the schema checks ranges). */
export function isSettingValue(s: SettingSpec, v: unknown): boolean {
  if (s.kind === 'boolean') return typeof v === 'boolean';
  if (s.kind === 'integer') return Number.isInteger(v);
  return Array.isArray(v) && v.every((x) => (s.values ?? []).includes(x as string));
}

/** RFC 7143 13: the target's side of every negotiated key, from the settings or fixed by this target. */
export function negotiationConfig(s: IscsiSettings): TargetNegotiationConfig {
  const out: Record<string, unknown> = {};
  const settings = s as unknown as Record<string, unknown>;
  for (const k of KEY_TABLE as readonly KeyDef[]) {
    if (k.param === undefined) continue;
    out[k.param] = k.setting !== undefined ? settings[k.setting.name] : k.fixed;
  }
  return out as TargetNegotiationConfig;
}
