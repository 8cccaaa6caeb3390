// The full feature phase of an iSCSI session on an engine thread (DESIGN.md §3): the supervisor
// ran the login (RFC 7143 6), wrote the final Login Response and handed the socket over
// (src/workers/supervisor.ts). Loading this module registers connectionHandler as the session
// factory of the "iscsi" fabric (src/transports/fabric.ts) on the loading thread; the daemon's
// engine-thread entry imports it, and SessionHost (src/workers/session-actor.ts) calls it for
// each such connection. The connection resumes with the
// negotiated parameters, StatSN and CmdSN window of the login, opens its I_T nexus on the
// thread's ThreadEngine (units homed here are direct calls, others go through the rings) and
// first reads the bytes the supervisor had read past the last Login Request.
//
// What the login settled travels in the hand-off's `params` (control plane, msgpackr): the
// negotiated operational parameters, the target's iSCSI settings (CmdSN window, NOP-In timers)
// and the SendTargets view of the portals (RFC 7143 12.3: SendTargets is allowed in a Normal
// session too). decodeHandOffParams checks that shape before anything uses it.
import type { IscsiSettings } from '../../engine/topology';
import type { EngineApi } from '../../engine/engine-api';
import type { ConfigValue } from '../../workers/messages';
import { ConnectionHandlerFactory, registerFabric } from '../fabric';
import { directReceiver } from '../../workers/socket-handoff';
import { createLogger } from '../../daemon/log';
import { ConnectionLog, IscsiConnection } from './connection';
import type { DiscoverySource, DiscoveryTarget } from './discovery';
import type { OperationalParams } from './negotiate';
import { SessionRegistry } from './session';

export interface HandOffParams {
  negotiated: OperationalParams;
  settings: IscsiSettings;
  discovery: DiscoveryTarget[];
  /** pino level name for the thread's connection log. */
  logLevel: string;
}

const NEGOTIATED_NUMBERS = [
  'maxConnections', 'maxRecvDataSegmentLength', 'maxXmitDataSegmentLength', 'maxBurstLength', 'firstBurstLength',
  'defaultTime2Wait', 'defaultTime2Retain', 'maxOutstandingR2T', 'errorRecoveryLevel', 'iscsiProtocolLevel',
] as const;
const NEGOTIATED_BOOLEANS = ['headerDigest', 'dataDigest', 'initialR2T', 'immediateData', 'dataPDUInOrder', 'dataSequenceInOrder'] as const;
const SETTINGS_NUMBERS = [
  'maxRecvDataSegmentLength', 'maxBurstLength', 'firstBurstLength', 'maxOutstandingR2T', 'nopInIntervalSec', 'nopInTimeoutSec',
  'defaultTime2Wait', 'defaultTime2Retain', 'queueDepth',
] as const;
const SETTINGS_BOOLEANS = ['initialR2T', 'immediateData'] as const;
/** Settings an embedder may leave out (settings.ts `optional`): carried when present. */
const SETTINGS_OPTIONAL_NUMBERS = ['busyPollMicros', 'dataOutTimeoutSec', 'loginTimeoutSec', 'maxLoginRequests', 'maxTextRequests', 'sendTimeoutSec',
  'maxConnectionsPerAddress', 'maxSessions', 'maxLoginsPerSecond',
  'maxDataOutMiBPerSession',
] as const;

/** The hand-off `params` for a session (plain data: no undefined, no class instances). */
export function encodeHandOffParams(p: HandOffParams): ConfigValue {
  const n = p.negotiated;
  const negotiated: { [k: string]: ConfigValue } = { taskReporting: n.taskReporting };
  for (const k of NEGOTIATED_NUMBERS) negotiated[k] = n[k];
  for (const k of NEGOTIATED_BOOLEANS) negotiated[k] = n[k];
  if (n.initiatorAlias !== undefined) negotiated.initiatorAlias = n.initiatorAlias;
  const settings: { [k: string]: ConfigValue } = {
    headerDigest: [...p.settings.headerDigest], dataDigest: [...p.settings.dataDigest],
  };
  for (const k of SETTINGS_NUMBERS) settings[k] = p.settings[k];
  for (const k of SETTINGS_BOOLEANS) settings[k] = p.settings[k];
  for (const k of SETTINGS_OPTIONAL_NUMBERS) if (p.settings[k] !== undefined) settings[k] = p.settings[k]!;
  const discovery: ConfigValue[] = p.discovery.map((t) => ({
    name: t.name, tpgt: t.tpgt, portals: t.portals.map((a) => ({ host: a.host, port: a.port })),
  }));
  return { negotiated, settings, discovery, logLevel: p.logLevel };
}

type Rec = { readonly [k: string]: ConfigValue };
const isRec = (v: ConfigValue | undefined): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const nums = (r: Rec, keys: readonly string[]): boolean => keys.every((k) => typeof r[k] === 'number');
const bools = (r: Rec, keys: readonly string[]): boolean => keys.every((k) => typeof r[k] === 'boolean');
const digests = (v: ConfigValue | undefined): v is Array<'None' | 'CRC32C'> =>
  Array.isArray(v) && v.every((x) => x === 'None' || x === 'CRC32C');

/** The hand-off `params` checked field by field; undefined when the shape is wrong. */
export function decodeHandOffParams(v: ConfigValue): HandOffParams | undefined {
  if (!isRec(v) || !isRec(v.negotiated) || !isRec(v.settings) || !Array.isArray(v.discovery) || typeof v.logLevel !== 'string') return undefined;
  const n = v.negotiated;
  const s = v.settings;
  if (!nums(n, NEGOTIATED_NUMBERS) || !bools(n, NEGOTIATED_BOOLEANS) || typeof n.taskReporting !== 'string') return undefined;
  if (n.initiatorAlias !== undefined && typeof n.initiatorAlias !== 'string') return undefined;
  if (!nums(s, SETTINGS_NUMBERS) || !bools(s, SETTINGS_BOOLEANS) || !digests(s.headerDigest) || !digests(s.dataDigest)) return undefined;
  if (SETTINGS_OPTIONAL_NUMBERS.some((k) => s[k] !== undefined && typeof s[k] !== 'number')) return undefined;
  const discovery: DiscoveryTarget[] = [];
  for (const t of v.discovery as readonly ConfigValue[]) {
    if (!isRec(t) || typeof t.name !== 'string' || typeof t.tpgt !== 'number' || !Array.isArray(t.portals)) return undefined;
    const portals: Array<{ host: string; port: number }> = [];
    for (const a of t.portals as readonly ConfigValue[]) {
      if (!isRec(a) || typeof a.host !== 'string' || typeof a.port !== 'number') return undefined;
      portals.push({ host: a.host, port: a.port });
    }
    discovery.push({ name: t.name, tpgt: t.tpgt, portals });
  }
  // Every field was checked above against the tables of OperationalParams and IscsiSettings.
  return {
    negotiated: { ...n } as unknown as OperationalParams,
    settings: { ...s } as unknown as IscsiSettings,
    discovery,
    logLevel: v.logLevel,
  };
}

/** Sessions of this engine thread (the supervisor's registry knows every thread's). */
const sessions = new SessionRegistry();
const logs = new Map<string, ConnectionLog>();

function logFor(level: string, thread: number): ConnectionLog {
  let l = logs.get(level);
  if (!l) {
    l = createLogger({ level }).child({ subsystem: 'iscsi', thread });
    logs.set(level, l);
  }
  return l;
}

function discoveryOf(targets: readonly DiscoveryTarget[], engine: EngineApi): DiscoverySource {
  return { targets: () => targets, canSee: (target, initiator) => engine.canSee(target, initiator) };
}

/** Fabric name the iSCSI session factory is registered under. */
export const ISCSI_FABRIC = 'iscsi';

export const connectionHandler: ConnectionHandlerFactory = (conn) => {
  const p = decodeHandOffParams(conn.state.params);
  if (!p) throw Object.assign(new Error('hand-off parameters are malformed'), { code: 'ERR_HANDOFF_STATE' });
  const st = conn.state;
  conn.socket.setNoDelay(true);
  const c = new IscsiConnection(
    conn.socket,
    {
      engine: conn.engine, settings: p.settings, sessions, portalTargets: [], discovery: discoveryOf(p.discovery, conn.engine),
      tpgt: st.tpgt, log: logFor(p.logLevel, conn.threadIndex), receiver: directReceiver(conn.socket),
    },
    {
      targetName: st.targetName, initiatorName: st.initiatorName, isid: st.isid, tsih: st.tsih, cid: st.cid, tpgt: st.tpgt,
      statSN: st.statSN, expCmdSN: st.expCmdSN, maxCmdSN: st.maxCmdSN, params: p.negotiated,
    },
  );
  void c.closed.then(() => conn.ended(c.endReason ?? 'connection closed'));
  c.feed(conn.pending);
  return {
    close: async (reason) => {
      c.destroy(reason);
      await c.closed;
    },
    requestLogout: (seconds) => c.requestLogout(seconds),
  };
};

registerFabric({ name: ISCSI_FABRIC, connectionHandler });
