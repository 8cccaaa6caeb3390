// Entry point of an engine thread (a worker_thread started by engine-threads.ts).
//
// It attaches to its rings and the buffer pool from workerData, loads the actor kinds it may
// host from `actorModules` (each module exports `actorKinds: { [kind]: ActorFactory }`), runs a
// Scheduler, and serves the control plane (messages.ts) on parentPort: placement, removal,
// routes, configuration, statistics and shutdown. It sends a heartbeat every `heartbeatMs`.
// Loads both as compiled JS and as TypeScript under tsx (the host adds `--require tsx/cjs`).

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { BufferPool, BufferPoolHandle } from './buffer-pool';
import { ConfigValue, ControlMessage, postControl, receiveControl } from './messages';
import { ActorContext, ActorFactory, Scheduler, SchedulerOptions, ThreadRings } from './scheduler';

export interface EngineThreadData {
  readonly rings: ThreadRings;
  readonly pool: BufferPoolHandle | null;
  /** Absolute paths (or package names) of modules exporting `actorKinds`. */
  readonly actorModules: readonly string[];
  readonly heartbeatMs: number;
  readonly scheduler: SchedulerOptions;
}

function loadActorKinds(modules: readonly string[]): Map<string, ActorFactory> {
  const kinds = new Map<string, ActorFactory>();
  for (const m of modules) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod: unknown = require(m);
    const table: unknown = typeof mod === 'object' && mod !== null ? (mod as { actorKinds?: unknown }).actorKinds : undefined;
    if (typeof table !== 'object' || table === null) {
      throw Object.assign(new Error(`actor module ${m} exports no actorKinds`), { code: 'ERR_ACTOR_MODULE' });
    }
    for (const [kind, factory] of Object.entries(table)) {
      if (typeof factory !== 'function') {
        throw Object.assign(new Error(`actor kind ${kind} in ${m} is not a factory`), { code: 'ERR_ACTOR_MODULE' });
      }
      kinds.set(kind, factory as ActorFactory);
    }
  }
  return kinds;
}

/** Runs the engine thread; returns the scheduler (for embedding and tests). */
export function runEngineThread(data: EngineThreadData): Scheduler {
  const port = parentPort;
  if (port === null) throw Object.assign(new Error('engine thread must run in a worker'), { code: 'ERR_NOT_WORKER' });
  const threadIndex = data.rings.threadIndex;
  const scheduler = new Scheduler(data.rings, data.scheduler);
  // Owner id = thread index (buffer-pool.ts): what this thread holds can be reclaimed if it dies.
  const pool = data.pool === null ? null : BufferPool.attach(data.pool, threadIndex);
  const kinds = loadActorKinds(data.actorModules);
  const send = (msg: ControlMessage): void => postControl(port, msg);
  const ctx: ActorContext = {
    threadIndex,
    scheduler,
    pool,
    report: (actorId, name, values) => send({ type: 'actorReport', actorId, name, values }),
  };

  let heartbeatSeq = 0;
  const heartbeat = setInterval(() => {
    send({ type: 'heartbeat', threadIndex, seq: ++heartbeatSeq, actors: scheduler.actorIds().length });
  }, data.heartbeatMs);
  heartbeat.unref();

  const place = (actorId: number, kind: string, config: ConfigValue): string => {
    const factory = kinds.get(kind);
    if (factory === undefined) return `unknown actor kind ${kind}`;
    if (scheduler.actor(actorId) !== undefined) return `actor ${actorId} already placed here`;
    try {
      scheduler.register(factory(actorId, config, ctx));
      return '';
    } catch (e) {
      return `actor ${actorId} (${kind}) failed to start: ${(e as Error).message}`;
    }
  };

  port.on('message', (data: unknown) => {
    const r = receiveControl(data);
    if (!r.ok) return; // a malformed control message is dropped; the supervisor times out
    const m = r.msg;
    switch (m.type) {
      case 'placeActor':
        send({ type: 'actorPlaced', actorId: m.actorId, threadIndex, error: place(m.actorId, m.kind, m.config) });
        break;
      case 'removeActor':
        scheduler.unregister(m.actorId);
        send({ type: 'actorRemoved', actorId: m.actorId, threadIndex });
        break;
      case 'route':
        scheduler.setRoute(m.actorId, m.threadIndex);
        break;
      case 'configChange':
        scheduler.actor(m.actorId)?.configure?.(m.config);
        break;
      case 'statsRequest': {
        const c = scheduler.counters;
        send({
          type: 'statsReply', requestId: m.requestId, threadIndex,
          counters: { ...c, actors: scheduler.actorIds().length },
        });
        break;
      }
      case 'shutdown':
        clearInterval(heartbeat);
        scheduler.stop();
        for (const id of scheduler.actorIds()) scheduler.unregister(id);
        port.close();
        break;
      default:
        break; // replies and reports only flow the other way
    }
  });

  scheduler.start();
  send({ type: 'threadReady', threadIndex });
  return scheduler;
}

if (!isMainThread && parentPort !== null && (workerData as { engineThread?: unknown } | null)?.engineThread === true) {
  runEngineThread((workerData as { data: EngineThreadData }).data);
}
