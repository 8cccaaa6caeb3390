// The main thread's side of the engine threads: starts N workers on a RingMesh, places actors
// on them over the control plane, and reports a thread that exits without being asked to,
// together with the ids of the actors it hosted (the supervision primitive a restart policy
// builds on; DESIGN §3: "restarts a crashed thread's actors").

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BufferPool } from './buffer-pool';
import { ActorPlaced, ActorReport, ConfigValue, ControlMessage, Heartbeat, StatsReply, postControl, receiveControl } from './messages';
import { RingMesh, SchedulerOptions } from './scheduler';
import type { EngineThreadData } from './worker-entry';

export interface ThreadCrash {
  readonly threadIndex: number;
  readonly exitCode: number;
  /** Actors that were placed on the thread and not removed. */
  readonly actorIds: readonly number[];
  /** Message of the uncaught error, if the thread died of one. */
  readonly error: string;
}

export interface EngineThreadsOptions {
  readonly threads: number;
  /** Slots per ring (power of two, default 1024). */
  readonly ringCapacity?: number;
  readonly pool?: BufferPool;
  /** Modules exporting `actorKinds`, loaded by every thread. */
  readonly actorModules: readonly string[];
  readonly heartbeatMs?: number;
  readonly scheduler?: SchedulerOptions;
  readonly onCrash?: (crash: ThreadCrash) => void;
  readonly onReport?: (report: ActorReport) => void;
  readonly onHeartbeat?: (beat: Heartbeat) => void;
}

export class EngineThreadsError extends Error {
  constructor(readonly code: 'ERR_THREAD_GONE' | 'ERR_PLACEMENT' | 'ERR_THREAD_START', message: string) {
    super(message);
  }
}

interface Pending {
  thread: number;
  resolve: (m: ControlMessage) => void;
  reject: (e: Error) => void;
}

/** Path of the worker entry and the execArgv that loads it (tsx when running from sources). */
export function workerEntry(): { file: string; execArgv: string[] } {
  const ts = __filename.endsWith('.ts');
  return {
    file: path.join(__dirname, ts ? 'worker-entry.ts' : 'worker-entry.js'),
    execArgv: ts ? ['--require', 'tsx/cjs'] : [],
  };
}

export class EngineThreads {
  readonly mesh: RingMesh;
  private readonly workers: Worker[] = [];
  private readonly alive: boolean[] = [];
  private readonly hosted: Set<number>[] = [];
  private readonly placement = new Map<number, number>(); // actorId -> thread
  private readonly pending = new Map<string, Pending>();
  private readonly lastError: string[] = [];
  private requestId = 0;
  private stopping = false;

  constructor(private readonly opts: EngineThreadsOptions) {
    this.mesh = RingMesh.create(opts.threads, opts.ringCapacity ?? 1024);
  }

  /** Starts every thread and resolves when all report threadReady. */
  async start(): Promise<void> {
    const entry = workerEntry();
    const ready: Promise<ControlMessage>[] = [];
    for (let i = 0; i < this.opts.threads; i++) {
      const data: EngineThreadData = {
        rings: this.mesh.forThread(i),
        pool: this.opts.pool?.handle() ?? null,
        actorModules: this.opts.actorModules,
        heartbeatMs: this.opts.heartbeatMs ?? 1000,
        scheduler: this.opts.scheduler ?? {},
      };
      const w = new Worker(entry.file, { execArgv: entry.execArgv, workerData: { engineThread: true, data } });
      this.workers.push(w);
      this.alive.push(true);
      this.hosted.push(new Set());
      this.lastError.push('');
      ready.push(this.expect(`ready:${i}`, i));
      w.on('message', (m: unknown) => this.onMessage(i, m));
      w.on('error', (e: Error) => { this.lastError[i] = e.message; });
      w.on('exit', (code: number) => this.onExit(i, code));
    }
    await Promise.all(ready);
  }

  /** Places `actorId` of `kind` on `threadIndex` and tells every other thread where it lives. */
  async place(actorId: number, kind: string, config: ConfigValue, threadIndex: number): Promise<void> {
    this.assertAlive(threadIndex);
    // Routes first: an actor may send from start() and be answered before its placement is
    // acknowledged, so every thread must know where replies go before the actor exists. Messages
    // on one port arrive in order, so a stats round trip to each thread is a barrier for the route.
    this.broadcastRoute(actorId, threadIndex);
    await this.stats();
    const reply = this.expect(`placed:${actorId}`, threadIndex);
    postControl(this.workers[threadIndex], { type: 'placeActor', actorId, kind, config });
    const m = (await reply) as ActorPlaced;
    if (m.error !== '') {
      this.broadcastRoute(actorId, -1);
      throw new EngineThreadsError('ERR_PLACEMENT', m.error);
    }
    this.hosted[threadIndex].add(actorId);
    this.placement.set(actorId, threadIndex);
  }

  async remove(actorId: number): Promise<void> {
    const t = this.placement.get(actorId);
    if (t === undefined) return;
    this.broadcastRoute(actorId, -1);
    if (this.alive[t]) {
      const reply = this.expect(`removed:${actorId}`, t);
      postControl(this.workers[t], { type: 'removeActor', actorId });
      await reply;
    }
    this.hosted[t].delete(actorId);
    this.placement.delete(actorId);
  }

  configure(actorId: number, config: ConfigValue): void {
    const t = this.placement.get(actorId);
    if (t === undefined || !this.alive[t]) throw new EngineThreadsError('ERR_THREAD_GONE', `actor ${actorId} is not placed`);
    postControl(this.workers[t], { type: 'configChange', actorId, config });
  }

  /** Counters of every live thread. */
  async stats(): Promise<StatsReply[]> {
    const replies: Promise<ControlMessage>[] = [];
    for (let i = 0; i < this.workers.length; i++) {
      if (!this.alive[i]) continue;
      const requestId = ++this.requestId;
      replies.push(this.expect(`stats:${requestId}`, i));
      postControl(this.workers[i], { type: 'statsRequest', requestId });
    }
    return (await Promise.all(replies)) as StatsReply[];
  }

  /** Actors currently placed on thread `i`. */
  actorsOn(i: number): number[] {
    return [...this.hosted[i]];
  }

  /** The Worker of thread `i` (for diagnostics and tests). */
  worker(i: number): Worker {
    return this.workers[i];
  }

  /** Asks every thread to stop and waits for them to exit. */
  async shutdown(reason = 'shutdown'): Promise<void> {
    this.stopping = true;
    const exits = this.workers.map((w, i) => this.alive[i]
      ? new Promise<void>((res) => w.once('exit', () => res()))
      : Promise.resolve());
    this.workers.forEach((w, i) => { if (this.alive[i]) postControl(w, { type: 'shutdown', reason }); });
    await Promise.all(exits);
  }

  private assertAlive(i: number): void {
    if (i < 0 || i >= this.workers.length || !this.alive[i]) {
      throw new EngineThreadsError('ERR_THREAD_GONE', `engine thread ${i} is not running`);
    }
  }

  private broadcastRoute(actorId: number, threadIndex: number): void {
    this.workers.forEach((w, i) => {
      if (this.alive[i]) postControl(w, { type: 'route', actorId, threadIndex });
    });
  }

  private expect(key: string, thread: number): Promise<ControlMessage> {
    return new Promise((resolve, reject) => this.pending.set(key, { thread, resolve, reject }));
  }

  private settle(key: string, m: ControlMessage): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    this.pending.delete(key);
    p.resolve(m);
  }

  private onMessage(i: number, data: unknown): void {
    const r = receiveControl(data);
    if (!r.ok) return;
    const m = r.msg;
    switch (m.type) {
      case 'threadReady': this.settle(`ready:${i}`, m); break;
      case 'actorPlaced': this.settle(`placed:${m.actorId}`, m); break;
      case 'actorRemoved': this.settle(`removed:${m.actorId}`, m); break;
      case 'statsReply': this.settle(`stats:${m.requestId}`, m); break;
      case 'heartbeat': this.opts.onHeartbeat?.(m); break;
      case 'actorReport': this.opts.onReport?.(m); break;
      default: break;
    }
  }

  private onExit(i: number, code: number): void {
    this.alive[i] = false;
    const actorIds = [...this.hosted[i]];
    this.hosted[i].clear();
    for (const id of actorIds) this.placement.delete(id);
    // Anything still waiting on this thread will never be answered.
    for (const [key, p] of this.pending) {
      if (p.thread === i) {
        this.pending.delete(key);
        p.reject(new EngineThreadsError('ERR_THREAD_GONE', `engine thread ${i} exited with code ${code}`));
      }
    }
    if (this.stopping) return;
    for (const id of actorIds) this.broadcastRoute(id, -1);
    this.opts.onCrash?.({ threadIndex: i, exitCode: code, actorIds, error: this.lastError[i] });
  }
}
