// An engine thread of the session mesh (DESIGN.md §3), started by SessionThreads
// (session-threads.ts): it hosts the LUN actors of its home devices (lun-thread.ts), a
// ThreadEngine over them and over the peer threads' rings, and a SessionHost that runs the
// connections the supervisor hands over. The supervisor only talks to it on the control plane.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ControlMessage, postControl, receiveControl } from './messages';
import { LunThreadHost, SpillSender, loadOpen } from './lun-thread';
import { ThreadEngine, nexusOwner } from './thread-engine';
import { SessionHost, loadHandlerFactory } from './session-host';
import { LunThreadData, sinkActorId, sinkThread } from './actor-protocol';

/**
 * workerData of a session-mesh engine thread (structured-clone safe): what a LUN thread gets
 * (actor-protocol.ts LunThreadData), with the homes of every device instead of its own list.
 */
export interface SessionThreadData extends Omit<LunThreadData, 'home'> {
  readonly threads: number;
  /** 0 for the first thread at this index, +1 for each replacement. */
  readonly generation: number;
  /** Engine thread of each device, in topology order. */
  readonly homeThread: readonly number[];
  /** Module exporting connectionHandler (session-host.ts). */
  readonly handlerModule: string;
}

/** Everything one mesh thread runs; exported for tests that drive it in-process. */
export interface SessionThreadParts {
  readonly lun: LunThreadHost;
  readonly engine: ThreadEngine;
}

/** Opens the LUN actors and the ThreadEngine of mesh thread `data.threadIndex`. */
export async function startSessionThread(data: SessionThreadData, post: (m: ControlMessage) => void): Promise<SessionThreadParts> {
  const self = data.threadIndex;
  const spill: SpillSender = (dest, sequence, bytes) => {
    const toThread = sinkThread(dest);
    if (toThread >= 0) post({ type: 'meshSpill', fromThread: self, toThread, toActor: dest, sequence, bytes });
  };
  const lun = await LunThreadHost.start({
    threadIndex: self,
    devices: data.devices,
    targets: data.targets,
    home: data.devices.filter((_, i) => data.homeThread[i] === self).map(d => d.name),
    rings: data.rings,
    pool: data.pool,
    scheduler: data.scheduler,
    backstoreModule: data.backstoreModule,
    stateDir: data.stateDir,
  }, spill, loadOpen(data.backstoreModule));
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
  });
  return { lun, engine };
}

/**
 * Control messages for the mesh parts (not the session host); false when not one of them.
 * `post` carries the peerDownDone acknowledgement the supervisor waits for before it reclaims
 * the dead thread's pool buffers.
 */
export function meshControl(parts: SessionThreadParts, self: number, m: ControlMessage, post?: (m: ControlMessage) => void): boolean {
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

/** Runs in the worker: start the parts, then serve the control plane. */
export function runSessionThread(data: SessionThreadData): void {
  const port = parentPort;
  if (port === null) throw Object.assign(new Error('session thread must run in a worker'), { code: 'ERR_NOT_WORKER' });
  const self = data.threadIndex;
  const post = (m: ControlMessage): void => postControl(port, m);
  const early: ControlMessage[] = [];
  let parts: SessionThreadParts | undefined;
  let sessions: SessionHost | undefined;
  const handle = (m: ControlMessage): void => {
    if (!parts || !sessions) { early.push(m); return; }
    if (sessions.receive(m) || meshControl(parts, self, m, post)) return;
    switch (m.type) {
      case 'statsRequest': {
        const counters: { [name: string]: number } = {};
        for (const [k, v] of Object.entries(parts.engine.counters)) counters[k] = v;
        for (const [k, v] of Object.entries(parts.engine.ringCounters)) counters[`ring.${k}`] = v;
        for (const [k, v] of Object.entries(parts.lun.scheduler.counters)) counters[`scheduler.${k}`] = v;
        for (const [k, v] of Object.entries(sessions.counters)) counters[`sessions.${k}`] = v;
        counters.sessions = sessions.size;
        counters.nexuses = parts.engine.openNexuses;
        post({ type: 'statsReply', requestId: m.requestId, threadIndex: self, counters });
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
  startSessionThread(data, post).then(p => {
    parts = p;
    sessions = new SessionHost(self, p.engine, loadHandlerFactory(data.handlerModule), post);
    for (const m of early.splice(0)) handle(m);
    post({ type: 'threadReady', threadIndex: self });
  }, (e: Error) => {
    post({ type: 'threadClosed', threadIndex: self, error: e.message });
    process.exit(1);
  });
}

if (!isMainThread && parentPort !== null && (workerData as { sessionThread?: unknown } | null)?.sessionThread === true) {
  runSessionThread((workerData as { data: SessionThreadData }).data);
}
