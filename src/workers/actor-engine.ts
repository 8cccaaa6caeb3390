// ActorEngine: the engine API (engine-api.ts) with the logical units on engine threads
// (DESIGN.md §3, §10).
//
//  transport ──execute──▶ NexusProxy ──descriptor──▶ request ring ──▶ LUN actor (lun-thread.ts)
//            ◀──done───── completion ◀──descriptor── completion ring ◀── Engine on that thread
//
// Placement: device i lives on thread i mod N (its home). Every thread's Engine has the whole
// topology with placeholders for the units it does not host, so LUN maps answer alike everywhere.
// The supervisor keeps a directory Engine of placeholders too: it answers canSee / groupFor /
// targetConfig and tells which thread a LUN's unit lives on. It never executes a command.
//
// Nexus state: openNexus mirrors the nexus to every thread with a nexusOpen control message;
// commands for a thread wait locally until that thread acknowledged it. Close, TMFs and Data-Out
// that arrives after its command travel on the request ring behind the commands they follow.
//
// Buffers (the protocol transports follow):
//   Data-Out   copied once into a pool buffer here, or received straight into one: a transport
//              asks nexus.dataOutBuffer(n) and passes that view as dataOut (ownership moves to
//              the engine thread, which returns it to the pool after the command completed).
//   Data-In    the engine thread copies the handler's data into a pool buffer; the Completion's
//              `data` is a view of it and `release()` returns it. The transport calls release()
//              once the bytes are on the socket (or copied).
//   Too big    Data larger than the largest pool class, or Data-In while the pool is empty on
//              the engine thread, spills: the bytes travel as a spillData control message (a copy,
//              ~20 µs) beside the descriptor, which carries SPILL_BUFFER. Rare by configuration
//              (default largest class 1 MiB; iSCSI MaxBurstLength is 256 KiB by default), never
//              lost, never split: one command stays one descriptor.
//
// Backpressure: a full request ring or an empty pool queues the operation locally (FIFO per
// thread, so nothing overtakes), retried when completions free slots and buffers. Nothing is
// dropped; only a local queue longer than `queueBound` answers TASK SET FULL (SAM-5 5.3.1).
//
// Supervision: an engine thread that dies is replaced by a fresh thread with the same home units,
// re-created from the topology on fresh rings. Its in-flight commands complete aborted and every
// nexus that reached its units is lost (isClosed turns true, onLost fires): the transport closes
// those connections; other nexuses keep working. Durability: a write is acknowledged only after
// the backstore's write() resolved, i.e. after pwrite returned (fileio: the data is in the page
// cache; blockio: on the device; FUA/write-through: fdatasync'ed). The page cache belongs to the
// file, not to the thread or its descriptor, so the replacement thread's fresh fd reads every
// acknowledged byte; a thread's death loses nothing that was acknowledged.
// Pool buffers the dead thread held come back before its replacement starts (buffer-pool.ts owner
// tags; the thread's owner id is its index, the supervisor's SUPERVISOR_OWNER): the old request
// ring, which only the dead thread read, is drained here and every buffer in it that the thread
// never adopted is freed; then reclaim(index) frees every buffer still tagged with the thread
// (adopted Data-Out, staged Data-In, Data-In in the old completion ring, which is never read
// again). The supervisor is the thread's only peer, so nothing else can hold its descriptors.

import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { Engine } from '../engine/engine';
import type { ItNexus, NexusIdentity } from '../engine/nexus';
import type { CommandRequest, CompletionCallback, TmfRequest } from '../engine/command';
import { TmfFunction, TmfResponse } from '../engine/spec/status';
import { NullBackstore } from '../engine/backstores/null';
import type { EngineApi, NexusApi } from '../engine/engine-api';
import type { EngineSettings, TargetConfig, Topology } from '../engine/topology';
import { BufferPool, SizeClass } from './buffer-pool';
import { ControlMessage, postControl, receiveControl } from './messages';
import type { DescriptorCursor } from './ring/descriptor';
import { RingClient, RingLink, abortedCompletion, newRingLink } from './ring-client';
import { Doorbell } from './ring/doorbell';
import { RingHandle, SpscRing } from './ring/spsc-ring';
import { NO_BUFFER } from './ring/descriptor';
import { Actor, Scheduler } from './scheduler';
import {
  LunThreadData, MAIN_ACTOR, NexusCloseFn, SPILL_BUFFER, THREAD_ACTOR, lunActorId,
} from './actor-protocol';

export type ActorTopology = Pick<Topology, 'devices' | 'targets'> & { engine?: Partial<EngineSettings>; stateDir?: string };

export interface ActorEngineOptions {
  /** Engine threads (default topology.engine.threads, else 1). 0 is only valid for createEngine. */
  threads?: number;
  /** Slots per ring, a power of two (default 1024). */
  ringCapacity?: number;
  /** Pool size classes (default DEFAULT_CLASSES of buffer-pool.ts). */
  poolClasses?: readonly SizeClass[];
  /** Operations queued locally (ring full, pool empty) before TASK SET FULL (default 4096). */
  queueBound?: number;
  /** Replacement threads per engine thread before its units stay offline (default 3). */
  maxRestarts?: number;
  /** Module exporting openBackstore(cfg) for the engine threads (tests); default the standard one. */
  backstoreModule?: string;
  /** A thread died and its replacement is serving (or `failed`: no more restarts). */
  onThreadRestart?: (threadIndex: number, failed: boolean) => void;
}

interface Link extends RingLink<NexusProxy> {
  /** Device indexes homed here. */
  readonly home: readonly number[];
  worker: Worker | null;
  /** Supervisor → thread ring of the current worker (drained when it dies). */
  requestRing: RingHandle | null;
  ready: boolean;
  failed: boolean;
  restarts: number;
  readyWaiters: (() => void)[];
  closed: (() => void) | null;
}

/** Open the engine the topology asks for: threads 0 = the plain Engine on this thread. */
export async function createEngine(topology: ActorTopology, opts: ActorEngineOptions = {}): Promise<EngineApi> {
  const threads = opts.threads ?? topology.engine?.threads ?? 1;
  if (threads === 0) return Engine.create(topology);
  return ActorEngine.create(topology, { ...opts, threads });
}

/** The NexusApi a transport holds when the units live on engine threads. */
export class NexusProxy implements NexusApi {
  closedByTransport = false;
  lost = false;
  /** Threads that have not acknowledged the nexusOpen yet. */
  readonly opening = new Set<number>();
  /** Called once when the engine loses the nexus (its unit's thread died). */
  onLost: (() => void) | undefined;

  constructor(readonly id: number, readonly ident: NexusIdentity, readonly dir: ItNexus, private readonly engine: ActorEngine) {}

  get initiatorName(): string { return this.ident.initiatorName; }
  get targetName(): string { return this.ident.targetName; }
  get isClosed(): boolean { return this.closedByTransport || this.lost; }

  execute(req: CommandRequest, done: CompletionCallback): void { this.engine.submit(this, req, done); }
  taskManagement(req: TmfRequest): Promise<TmfResponse> { return this.engine.taskManagement(this, req); }
  close(reason: 'loss' | 'logout'): Promise<void> { return this.engine.closeNexus(this, reason); }

  /**
   * A pool buffer of `bytes` to receive Data-Out into (no copy on execute when passed back as
   * `dataOut`); undefined when the pool has none free or `bytes` exceeds the largest class.
   */
  dataOutBuffer(bytes: number): Uint8Array | undefined { return this.engine.dataOutBuffer(bytes); }

  /** The CDB's own transfer length in bytes (embedded mode), from the directory's LUN map. */
  transferLengthFor(lun: number, cdb: Uint8Array): number | undefined { return this.dir.transferLengthFor(lun, cdb); }
}

/** Supervisor-side sink for completions of one link. */
class MainActor implements Actor {
  readonly id = MAIN_ACTOR;
  constructor(private readonly engine: ActorEngine, private readonly link: Link) {}
  receive(d: DescriptorCursor): void { this.engine.onDescriptor(this.link, d); }
}

export class ActorEngine implements EngineApi {
  readonly threads: number;
  readonly pool: BufferPool;
  private readonly links: Link[] = [];
  private readonly homeOf = new Map<string, number>();
  private readonly deviceIndex = new Map<string, number>();
  private readonly proxies = new Map<number, NexusProxy>();
  private readonly client: RingClient<NexusProxy, Link>;
  private nextNexusId = 1;
  private stopping = false;
  /**
   * Counters for tests and the bench: operations that waited in a local queue, TASK SET FULLs;
   * pool buffers recovered from dead threads (reclaimed: tagged with the thread; returned: sent
   * to it and never adopted).
   */
  readonly counters: RingClient<NexusProxy, Link>['counters'] & { restarts: number; reclaimed: number; returned: number };

  private constructor(
    private readonly topology: ActorTopology,
    private readonly dirEngine: Engine,
    private readonly opts: ActorEngineOptions,
    threads: number,
  ) {
    this.threads = threads;
    this.pool = BufferPool.create({ classes: opts.poolClasses });
    topology.devices.forEach((d, i) => {
      this.deviceIndex.set(d.name, i);
      this.homeOf.set(d.name, i % threads);
    });
    for (let t = 0; t < threads; t++) {
      const home: number[] = [];
      topology.devices.forEach((_, i) => { if (i % threads === t) home.push(i); });
      this.links.push({
        ...newRingLink<NexusProxy>(t), home, worker: null, requestRing: null, ready: false, failed: false, restarts: 0, readyWaiters: [], closed: null,
      });
    }
    this.client = new RingClient<NexusProxy, Link>(this.pool, this.links, {
      canSend: (l, p) => l.ready && !p.opening.has(l.index),
      isFailed: l => l.failed,
      postSpill: (l, sequence, bytes) => this.post(l, { type: 'spillData', sequence, bytes }),
      nexusGone: p => { if (!p.closedByTransport) this.lose(p); },
    }, { sourceActor: MAIN_ACTOR, queueBound: opts.queueBound });
    this.counters = Object.assign(this.client.counters, { restarts: 0, reclaimed: 0, returned: 0 });
  }

  static async create(topology: ActorTopology, opts: ActorEngineOptions = {}): Promise<ActorEngine> {
    const threads = opts.threads ?? topology.engine?.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw Object.assign(new RangeError(`ActorEngine needs 1..64 threads, got ${threads}`), { code: 'ERR_TOPOLOGY' });
    }
    const dirEngine = await Engine.create({ devices: topology.devices, targets: topology.targets }, {
      openBackstore: cfg => Promise.resolve(new NullBackstore({ sizeBytes: cfg.sizeBytes, readOnly: cfg.readOnly, thin: cfg.thin })),
    });
    const e = new ActorEngine(topology, dirEngine, opts, threads);
    try {
      await Promise.all(e.links.map(l => e.spawn(l)));
    } catch (err) {
      await e.close();
      throw err;
    }
    return e;
  }

  // ---- EngineApi -----------------------------------------------------------------------------

  targetNames(): string[] { return this.dirEngine.targetNames(); }
  targetConfig(name: string): TargetConfig | undefined { return this.dirEngine.targetConfig(name); }
  canSee(targetName: string, initiatorName: string): boolean { return this.dirEngine.canSee(targetName, initiatorName); }
  groupFor(targetName: string, initiatorName: string): string | undefined { return this.dirEngine.groupFor(targetName, initiatorName); }

  openNexus(ident: NexusIdentity): NexusProxy | undefined {
    const dir = this.dirEngine.openNexus(ident);
    if (!dir) return undefined;
    const p = new NexusProxy(this.nextNexusId++, ident, dir, this);
    this.proxies.set(p.id, p);
    for (const l of this.links) if (l.ready) this.mirrorOpen(l, p);
    return p;
  }

  /** Stops every engine thread after flushing and closing its backstores. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(this.links.map(l => this.stopLink(l)));
    this.client.close();
    await this.dirEngine.close();
  }

  // ---- diagnostics ---------------------------------------------------------------------------

  /** The Worker of engine thread `i` (tests kill it on purpose). */
  worker(i: number): Worker | null { return this.links[i].worker; }

  /** Thread hosting `device`. */
  threadOf(device: string): number | undefined { return this.homeOf.get(device); }

  /** Resolves once thread `i` serves (after a restart too). */
  whenReady(i: number): Promise<void> {
    const l = this.links[i];
    if (l.ready) return Promise.resolve();
    return new Promise(res => l.readyWaiters.push(res));
  }

  /** Operations waiting in local queues (backpressure). */
  get queuedOps(): number { return this.client.queued; }

  // ---- data path (called by NexusProxy) ------------------------------------------------------

  dataOutBuffer(bytes: number): Uint8Array | undefined { return this.client.dataOutBuffer(bytes); }

  submit(p: NexusProxy, req: CommandRequest, done: CompletionCallback): void {
    if (p.isClosed) { done(abortedCompletion()); return; }
    const { link, dest } = this.route(p, req.lun);
    this.client.command(link, p, req, done, dest, () => !p.lost);
  }

  taskManagement(p: NexusProxy, req: TmfRequest): Promise<TmfResponse> {
    if (p.isClosed) return Promise.resolve(TmfResponse.FUNCTION_REJECTED);
    const nexusWide = req.fn === TmfFunction.I_T_NEXUS_RESET || req.fn === TmfFunction.TARGET_WARM_RESET ||
      req.fn === TmfFunction.TARGET_COLD_RESET;
    const send = (link: Link, dest: number): Promise<TmfResponse> =>
      this.client.tmf(link, p, req.fn, req.lun, req.refTag ?? 0, dest);
    if (!nexusWide) {
      const { link, dest } = this.route(p, req.lun);
      return send(link, dest);
    }
    // SAM-5 7.11 / 7.12: every unit of the nexus (or target) is affected, wherever it lives.
    return Promise.all(this.links.map(l => send(l, THREAD_ACTOR)))
      .then(rs => rs.find(r => r !== TmfResponse.FUNCTION_COMPLETE) ?? TmfResponse.FUNCTION_COMPLETE);
  }

  async closeNexus(p: NexusProxy, reason: 'loss' | 'logout'): Promise<void> {
    if (p.closedByTransport) return;
    const wasLost = p.lost;
    p.closedByTransport = true;
    if (!wasLost) {
      const fn = reason === 'loss' ? NexusCloseFn.LOSS : NexusCloseFn.LOGOUT;
      await Promise.all(this.links.map(l => this.client.tmf(l, p, fn, 0, 0, THREAD_ACTOR)));
    }
    this.proxies.delete(p.id);
    await p.dir.close(reason);
  }

  // ---- routing and queues --------------------------------------------------------------------

  private route(p: NexusProxy, lun: number): { link: Link; dest: number } {
    const e = p.dir.map.entries.get(lun);
    if (e) {
      const i = this.deviceIndex.get(e.lu.name)!;
      return { link: this.links[this.homeOf.get(e.lu.name)!], dest: lunActorId(i) };
    }
    // SPC-4 / DESIGN §4: unmapped LUNs still answer INQUIRY, REPORT LUNS, REQUEST SENSE; any
    // thread can, since every thread has the whole map. Use the thread of the nexus's first unit.
    const first = p.dir.units()[0];
    const t = first ? this.homeOf.get(first.name)! : 0;
    return { link: this.links[t], dest: THREAD_ACTOR };
  }

  /** A descriptor from a completion ring (valid only during the call). */
  onDescriptor(link: Link, d: DescriptorCursor): void { this.client.onDescriptor(link, d); }

  private onControl(link: Link, m: ControlMessage): void {
    switch (m.type) {
      case 'threadReady': {
        link.ready = true;
        for (const p of this.proxies.values()) if (!p.isClosed) this.mirrorOpen(link, p);
        for (const w of link.readyWaiters.splice(0)) w();
        this.client.pump(link);
        break;
      }
      case 'nexusOpened': {
        const p = this.proxies.get(m.nexusId);
        if (!p) break;
        p.opening.delete(link.index);
        this.client.pump(link);
        break;
      }
      case 'spillData':
        this.client.onSpill(link, m.sequence, m.bytes);
        break;
      case 'threadClosed': {
        link.closed?.();
        break;
      }
      default: break;
    }
  }

  private mirrorOpen(link: Link, p: NexusProxy): void {
    p.opening.add(link.index);
    this.post(link, {
      type: 'nexusOpen', nexusId: p.id, targetName: p.ident.targetName, initiatorName: p.ident.initiatorName,
      isid: p.ident.isid ?? '', tpgt: p.ident.tpgt ?? 0,
    });
  }

  private post(link: Link, m: ControlMessage): void {
    if (link.worker) postControl(link.worker, m);
  }

  // ---- threads and supervision ---------------------------------------------------------------

  private spawn(link: Link): Promise<void> {
    const mainBell = Doorbell.create();
    const workerBell = Doorbell.create();
    const cap = this.opts.ringCapacity ?? 1024;
    const req = SpscRing.create(cap, { consumerBell: workerBell.handle() }).handle();
    const cpl = SpscRing.create(cap, { consumerBell: mainBell.handle() }).handle();
    const scheduler = new Scheduler(
      { threadIndex: 0, threads: 2, inbound: [null, cpl], outbound: [null, req], doorbell: mainBell.handle() },
      { localCapacity: 2 },
    );
    scheduler.register(new MainActor(this, link));
    scheduler.setRoute(THREAD_ACTOR, 1);
    for (const i of link.home) scheduler.setRoute(lunActorId(i), 1);
    const data: LunThreadData = {
      threadIndex: link.index,
      devices: this.topology.devices,
      targets: this.topology.targets,
      home: link.home.map(i => this.topology.devices[i].name),
      rings: { threadIndex: 1, threads: 2, inbound: [req, null], outbound: [cpl, null], doorbell: workerBell.handle() },
      pool: this.pool.handle(),
      scheduler: {},
      backstoreModule: this.opts.backstoreModule ?? '',
      stateDir: this.topology.stateDir ?? '',
    };
    const ts = __filename.endsWith('.ts');
    const w = new Worker(path.join(__dirname, ts ? 'lun-thread.ts' : 'lun-thread.js'), {
      execArgv: ts ? ['--require', 'tsx/cjs'] : [],
      workerData: { lunThread: true, data },
    });
    link.worker = w;
    link.requestRing = req;
    link.scheduler = scheduler;
    scheduler.start();
    let startError = '';
    const started = new Promise<void>((resolve, reject) => {
      link.readyWaiters.push(resolve);
      w.on('message', (raw: unknown) => {
        const r = receiveControl(raw);
        if (!r.ok) return;
        if (r.msg.type === 'threadClosed' && !link.ready) startError = r.msg.error;
        this.onControl(link, r.msg);
      });
      w.on('error', (e: Error) => { startError = e.message; });
      w.on('exit', (code: number) => {
        if (!link.ready && link.worker === w) {
          reject(Object.assign(new Error(`engine thread ${link.index} failed to start: ${startError || `exit ${code}`}`),
            { code: 'ERR_THREAD_START' }));
        }
        this.onExit(link, w);
      });
    });
    return started;
  }

  private onExit(link: Link, w: Worker): void {
    if (link.worker !== w) return;
    const wasReady = link.ready;
    link.ready = false;
    link.worker = null;
    link.scheduler?.stop();
    link.scheduler = null;
    link.closed?.();
    if (this.stopping || !wasReady) return;
    // Every nexus that reached a unit of this thread lost its state there (SAM-5 I_T nexus loss).
    const home = new Set(link.home.map(i => this.topology.devices[i].name));
    const hit = this.client.failInflight(link);
    for (const p of this.proxies.values()) if (p.dir.units().some(u => home.has(u.name))) hit.add(p);
    for (const p of hit) this.lose(p);
    for (const p of this.proxies.values()) p.opening.delete(link.index);
    this.recoverBuffers(link);
    const max = this.opts.maxRestarts ?? 3;
    if (link.restarts >= max) {
      link.failed = true;
      this.client.failQueued(link);
      this.opts.onThreadRestart?.(link.index, true);
      return;
    }
    link.restarts++;
    this.counters.restarts++;
    this.spawn(link).then(
      () => this.opts.onThreadRestart?.(link.index, false),
      () => undefined, // its exit handler runs onExit again, which counts the restart
    );
  }

  /** The dead thread's pool buffers back to the pool, before a replacement reuses its owner id. */
  private recoverBuffers(link: Link): void {
    if (link.requestRing) {
      const ring = SpscRing.attach(link.requestRing);
      const n = ring.peek();
      for (let i = 0; i < n; i++) {
        const h = ring.reader(i).bufferHandle;
        if (h !== NO_BUFFER && h !== SPILL_BUFFER && this.pool.isHandle(h) && this.pool.putIfOwner(h, this.pool.owner)) {
          this.counters.returned++;
        }
      }
      ring.consume(n);
      link.requestRing = null;
    }
    this.counters.reclaimed += this.pool.reclaim(link.index);
  }

  /** The nexus is gone engine-side: fail what is queued, tell the other threads, tell the transport. */
  private lose(p: NexusProxy): void {
    if (p.lost || p.closedByTransport) return;
    p.lost = true;
    this.client.dropQueued(p);
    for (const l of this.links) if (l.ready) this.client.closeQuietly(l, p, THREAD_ACTOR);
    this.proxies.delete(p.id);
    void p.dir.close('loss');
    p.onLost?.();
  }

  private async stopLink(l: Link): Promise<void> {
    const w = l.worker;
    if (!w) return;
    const exited = new Promise<void>(res => w.once('exit', () => res()));
    const closed = new Promise<void>(res => { l.closed = res; });
    postControl(w, { type: 'shutdown', reason: 'close' });
    // Bounded: a thread that does not answer within 5 s is terminated.
    const timer = setTimeout(() => { void w.terminate(); }, 5000);
    await Promise.race([closed, exited]);
    await Promise.race([exited, new Promise<void>(res => setTimeout(res, 1000).unref())]);
    clearTimeout(timer);
    if (l.worker === w) await w.terminate();
    l.scheduler?.stop();
    l.scheduler = null;
    l.ready = false;
  }
}
