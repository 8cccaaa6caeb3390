// One member of the engine-thread mesh (DESIGN.md §3): a Scheduler hosting the LUN actors of the
// member's home devices (lun-actor.ts), a ThreadEngine over them and over the peers' rings
// (thread-engine.ts) and a SessionHost for the session actors the supervisor hands over
// (session-actor.ts). A worker thread runs runEngineThread(); the calling thread (embedded mode,
// `engine.threads: 0`) runs the same parts through startEngineThread() and the supervisor
// (supervisor.ts) calls meshControl() on it directly. Either way the supervisor only talks to a
// member on the control plane.
//
// The worker's entry module is given by whoever starts the threads (supervisor.ts `threadEntry`):
// the daemon's entry imports the transports whose sessions run on engine threads, so their
// session factories are registered on the thread before the first hand-off arrives. This file is
// the entry when no transport runs sessions on engine threads (embedded mode).

import { setDataPathStatistics } from '../engine/statistics-switch';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { EngineOptions } from '../engine/engine';
import { NexusError } from '../engine/result';
import { performance } from 'node:perf_hooks';
import { ControlMessage, UnitStats, postControl, receiveControl } from './messages';
import { unitCall } from './unit-ops';
import { LunActorHost, LunHostConfig, OpenStore, SpillSender } from './lun-actor';
import { openBackstore as standardOpen } from '../engine/backstores';
import { ThreadEngine, nexusOwner } from './thread-engine';
import { SessionHost } from './session-actor';
import { applyMeshChange, decodeMeshChange } from './reconfigure';
import { sinkActorId, sinkThread } from './actor-protocol';
import type { SchedulerOptions, ThreadRings } from './scheduler';
import { threadMemoryCounters } from './memory-usage';
import { threadContention } from './cpu-contention';
import { threadBusyPoll } from './busy-poll';

/**
 * What a mesh member is built from (structured-clone safe: it is a worker's workerData): what its
 * LUN actors are built from (lun-actor.ts LunHostConfig), with every device's home instead of the
 * names of its own.
 */
export interface EngineThreadData extends Omit<LunHostConfig, 'home'> {
  /** Members of the mesh (engine threads, plus the calling thread when it takes part). */
  readonly threads: number;
  /** 0 for the first thread at this index, +1 for each replacement. */
  readonly generation: number;
  /** Mesh member each device is homed on, in topology order. */
  readonly homeThread: readonly number[];
  /** Operations queued locally (ring full, pool empty) before TASK SET FULL (0 = default). */
  readonly queueBound: number;
  /** Whether the data path counts statistics (the topology's engine.statistics). */
  readonly statistics: boolean;
}

/** How this thread's units open their backstores, when its entry module says (useBackstoreOpener). */
let opener: OpenStore | undefined;

/**
 * Replaces how the units of this thread open their backstores (an engine-thread entry calls it
 * before runEngineThread; tests inject slow or failing stores this way). Default: the standard
 * openBackstore of src/engine/backstores.
 */
export function useBackstoreOpener(open: OpenStore): void {
  opener = open;
}

/** Everything one mesh member runs. */
export interface EngineThreadParts {
  readonly lun: LunActorHost;
  readonly engine: ThreadEngine;
  /** Devices homed on this member (their units have real backstores here), as they are now. */
  readonly home: () => readonly string[];
}

/**
 * Opens the LUN actors and the ThreadEngine of mesh member `data.threadIndex`. `engineOpts` (not
 * cloneable: the calling thread's member only) replaces how its units open backstores, log and
 * persist reservations.
 */
export async function startEngineThread(
  data: EngineThreadData, post: (m: ControlMessage) => void, engineOpts: EngineOptions = {},
): Promise<EngineThreadParts> {
  const self = data.threadIndex;
  setDataPathStatistics(data.statistics);
  const spill: SpillSender = (dest, sequence, bytes) => {
    const toThread = sinkThread(dest);
    if (toThread >= 0) post({ type: 'meshSpill', fromThread: self, toThread, toActor: dest, sequence, bytes });
  };
  const home = data.devices.filter((_, i) => data.homeThread[i] === self).map(d => d.name);
  const lun = await LunActorHost.start({
    threadIndex: self,
    devices: data.devices,
    targets: data.targets,
    home,
    rings: data.rings,
    pool: data.pool,
    scheduler: data.scheduler,
    stateDir: data.stateDir,
    lendReadBuffers: data.lendReadBuffers,
  }, spill, engineOpts.openBackstore ?? opener ?? standardOpen, { log: engineOpts.log, prStore: engineOpts.prStore });
  const engine = new ThreadEngine({
    threadIndex: self,
    threads: data.threads,
    generation: data.generation,
    engine: lun.engine,
    scheduler: lun.scheduler,
    pool: lun.pool,
    devices: data.devices.map(d => d.name),
    homeThread: data.homeThread,
    postSpill: (toThread, toActor, sequence, bytes) =>
      post({ type: 'meshSpill', fromThread: self, toThread, toActor, sequence, bytes }),
    queueBound: data.queueBound > 0 ? data.queueBound : undefined,
  });
  return { lun, engine, home: () => lun.homeDevices };
}

/**
 * Control messages for the mesh parts (not the session host); false when not one of them.
 * `post` carries the peerDownDone acknowledgement the supervisor waits for before it reclaims
 * the dead thread's pool buffers.
 */
export function meshControl(parts: EngineThreadParts, self: number, m: ControlMessage, post?: (m: ControlMessage) => void): boolean {
  switch (m.type) {
    case 'peerDown':
      parts.engine.peerDown(m.threadIndex);
      // Nexuses the dead thread mirrored here have no session any more (SAM-5 I_T nexus loss).
      parts.lun.dropNexuses(id => nexusOwner(id) === m.threadIndex);
      post?.({ type: 'peerDownDone', threadIndex: m.threadIndex, fromThread: self });
      return true;
    case 'peerUp':
      parts.engine.peerUp(m.threadIndex);
      return true;
    case 'meshSpill':
      if (m.toThread !== self) return true;
      if (m.toActor === sinkActorId(self)) parts.engine.spillArrived(m.fromThread, m.sequence, m.bytes);
      else parts.lun.spillArrived(m.sequence, m.bytes, sinkActorId(m.fromThread));
      return true;
    default:
      return false;
  }
}

/** Counters of a member, for statsReply. */
export function memberCounters(parts: EngineThreadParts): { [name: string]: number } {
  const counters: { [name: string]: number } = {};
  for (const [k, v] of Object.entries(parts.engine.counters)) counters[k] = v;
  for (const [k, v] of Object.entries(parts.engine.ringCounters)) counters[`ring.${k}`] = v;
  for (const [k, v] of Object.entries(parts.lun.scheduler.counters)) counters[`scheduler.${k}`] = v;
  // Ring depth now (descriptors waiting in the thread's rings each way) beside the full events.
  const depth = parts.lun.scheduler.ringDepth();
  counters['ring.inboundDepth'] = depth.inbound;
  counters['ring.outboundDepth'] = depth.outbound;
  for (const [k, v] of Object.entries(parts.lun.counters)) counters[`lun.${k}`] = v;
  counters.nexuses = parts.engine.openNexuses;
  // The thread's event loop: time spent running (busy) and waiting (idle) since it started.
  const elu = performance.eventLoopUtilization();
  counters.busyMs = elu.active;
  counters.idleMs = elu.idle;
  // Whether the thread shares its core (cpu-contention.ts), and what busy polling cost it.
  const cpu = threadContention().gauge;
  counters['cpu.contended'] = cpu.contended ? 1 : 0;
  counters['cpu.contentionChanges'] = cpu.changes;
  const poll = threadBusyPoll().stats;
  counters['busyPoll.windows'] = poll.windows;
  counters['busyPoll.turns'] = poll.turns;
  // The thread's isolate: heap, young generation, external memory, kept read buffers.
  Object.assign(counters, threadMemoryCounters());
  return counters;
}

/** The counters of the member's home units (read, never reset, by the control plane). */
export function memberUnitStats(parts: EngineThreadParts): UnitStats[] {
  const out: UnitStats[] = [];
  for (const name of parts.home()) {
    const lu = parts.lun.engine.units.get(name);
    if (!lu) continue;
    const s = lu.statistics;
    out.push({
      device: name,
      blockSize: lu.blockSize,
      commands: s.commands,
      readCommands: s.readCommands,
      writeCommands: s.writeCommands,
      readBytes: s.blocksTransmitted * lu.blockSize,
      writeBytes: s.blocksReceived * lu.blockSize,
      checkConditions: [...s.checkConditionsBySenseKey],
      otherErrors: s.otherErrors,
      latencyBuckets: [...s.latency.buckets],
      latencySumNs: [...s.latency.sumNs],
      taskSetDepth: lu.tasks.size,
      sanitizeProgress: lu.sanitizing ? lu.sanitizeProgress : -1,
    });
  }
  return out;
}

/**
 * Runs in a worker started by the supervisor: start the parts, then serve the control plane.
 * The worker's entry module calls it after importing the transports it serves.
 */
export function runEngineThread(): void {
  const port = parentPort;
  const wd = workerData as { engineThread?: unknown; data?: EngineThreadData } | null;
  if (isMainThread || port === null || wd?.engineThread !== true || wd.data === undefined) {
    throw new NexusError('ERR_NOT_WORKER', 'an engine thread runs in a worker started by the supervisor');
  }
  const data = wd.data;
  const self = data.threadIndex;
  const post = (m: ControlMessage): void => postControl(port, m);
  const early: ControlMessage[] = [];
  let parts: EngineThreadParts | undefined;
  let sessions: SessionHost | undefined;
  const handle = (m: ControlMessage): void => {
    if (!parts || !sessions) { early.push(m); return; }
    if (sessions.receive(m) || meshControl(parts, self, m, post)) return;
    switch (m.type) {
      case 'statsRequest': {
        const counters = memberCounters(parts);
        for (const [k, v] of Object.entries(sessions.counters)) counters[`sessions.${k}`] = v;
        counters.sessions = sessions.size;
        post({ type: 'statsReply', requestId: m.requestId, threadIndex: self, counters, units: memberUnitStats(parts), sessions: sessions.statistics() });
        break;
      }
      case 'unitRequest': {
        const { requestId } = m;
        unitCall(parts.lun.engine, m.device, m.op, m.args).then(
          r => post({ type: 'unitReply', requestId, ...r }),
          (e: Error) => post({ type: 'unitReply', requestId, error: 'ERR_INTERNAL', message: e.message, result: null }),
        );
        break;
      }
      case 'reconfigure': {
        const requestId = m.requestId;
        const change = decodeMeshChange(m.change);
        if (typeof change === 'string') {
          post({ type: 'reconfigured', requestId, threadIndex: self, error: change });
          break;
        }
        applyMeshChange(parts, self, change).then(
          () => post({ type: 'reconfigured', requestId, threadIndex: self, error: '' }),
          (e: Error) => post({ type: 'reconfigured', requestId, threadIndex: self, error: e.message }),
        );
        break;
      }
      case 'shutdown': {
        const p = parts;
        sessions.closeAll('shutdown')
          .then(() => p.engine.close())
          .then(() => p.lun.close())
          .then(
            () => post({ type: 'threadClosed', threadIndex: self, error: '' }),
            (e: Error) => post({ type: 'threadClosed', threadIndex: self, error: e.message }),
          )
          .finally(() => port.close());
        break;
      }
      default: break;
    }
  };
  port.on('message', (raw: unknown) => {
    const r = receiveControl(raw);
    if (r.ok) handle(r.msg);
  });
  startEngineThread(data, post).then(p => {
    parts = p;
    sessions = new SessionHost(self, p.engine, post);
    for (const m of early.splice(0)) handle(m);
    post({ type: 'threadReady', threadIndex: self });
  }, (e: Error) => {
    post({ type: 'threadClosed', threadIndex: self, error: e.message });
    process.exit(1);
  });
}

// The entry when no transport runs sessions on engine threads (the supervisor's default).
if (require.main === module) runEngineThread();
