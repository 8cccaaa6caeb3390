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
// Known leak: pool buffers the dead thread held (its in-flight Data-Out and unsent Data-In) are
// not reclaimed, because the supervisor cannot tell whether the thread returned them already.

import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { Engine } from '../engine/engine';
import type { ItNexus, NexusIdentity } from '../engine/nexus';
import type { CommandRequest, Completion, CompletionCallback, TmfRequest } from '../engine/command';
import { ResidualKind } from '../engine/command';
import { Status, TmfFunction, TmfResponse } from '../engine/spec/status';
import { NullBackstore } from '../engine/backstores/null';
import type { EngineApi, NexusApi } from '../engine/engine-api';
import type { EngineSettings, TargetConfig, Topology } from '../engine/topology';
import { BufferPool, SizeClass } from './buffer-pool';
import { ControlMessage, postControl, receiveControl } from './messages';
import { DescKind, DescriptorCursor, NO_BUFFER } from './ring/descriptor';
import { Doorbell } from './ring/doorbell';
import { SpscRing } from './ring/spsc-ring';
import { Actor, Scheduler } from './scheduler';
import {
  DescFlag, LunThreadData, MAIN_ACTOR, NexusCloseFn, SPILL_BUFFER, THREAD_ACTOR, lunActorId, toDescAttr,
} from './actor-protocol';

export type ActorTopology = Pick<Topology, 'devices' | 'targets'> & { engine?: Partial<EngineSettings> };

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

interface CmdOp {
  readonly kind: 'cmd';
  readonly proxy: NexusProxy;
  readonly req: CommandRequest;
  readonly done: CompletionCallback;
  readonly dest: number;
  readonly seq: number;
  readonly late: boolean;
  handle: number;
  rejected: boolean;
}
interface DataOp {
  readonly kind: 'data';
  readonly proxy: NexusProxy;
  readonly cmd: CmdOp;
  readonly data: Uint8Array | undefined;
  handle: number;
}
interface TmfOp {
  readonly kind: 'tmf';
  readonly proxy: NexusProxy;
  readonly fn: number;
  readonly lun: number;
  readonly refTag: number;
  readonly dest: number;
  readonly seq: number;
  readonly resolve: (r: TmfResponse) => void;
}
type Op = CmdOp | DataOp | TmfOp;

interface Parked { readonly c: Completion; readonly done: CompletionCallback }

interface Link {
  readonly index: number;
  /** Device indexes homed here. */
  readonly home: readonly number[];
  worker: Worker | null;
  scheduler: Scheduler | null;
  ready: boolean;
  failed: boolean;
  restarts: number;
  readonly queue: Op[];
  readonly inflight: Map<number, CmdOp | TmfOp>;
  /** Spilled Data-In that arrived before its completion descriptor. */
  readonly spills: Map<number, Uint8Array>;
  /** Completions waiting for their spilled Data-In. */
  readonly parked: Map<number, Parked>;
  retryTimer: NodeJS.Timeout | null;
  readyWaiters: (() => void)[];
  closed: (() => void) | null;
}

const MIN_RETRY_MS = 1;

function aborted(): Completion {
  return { status: Status.TASK_ABORTED, residualKind: ResidualKind.NONE, residual: 0, aborted: true };
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
  private readonly transportBuffers = new WeakMap<Uint8Array, number>();
  private nextNexusId = 1;
  private nextSeq = 1;
  private queued = 0;
  private stopping = false;
  private pumpQueued = false;
  /** Counters for tests and the bench: operations that waited in a local queue, TASK SET FULLs. */
  readonly counters = { queuedOps: 0, taskSetFull: 0, spilledIn: 0, spilledOut: 0, restarts: 0 };

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
        index: t, home, worker: null, scheduler: null, ready: false, failed: false, restarts: 0, queue: [],
        inflight: new Map(), spills: new Map(), parked: new Map(), retryTimer: null, readyWaiters: [], closed: null,
      });
    }
  }

  static async create(topology: ActorTopology, opts: ActorEngineOptions = {}): Promise<ActorEngine> {
    const threads = opts.threads ?? topology.engine?.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw Object.assign(new RangeError(`ActorEngine needs 1..64 threads, got ${threads}`), { code: 'ERR_TOPOLOGY' });
    }
    const dirEngine = await Engine.create(topology, {
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
    for (const l of this.links) {
      if (l.retryTimer) clearTimeout(l.retryTimer);
      for (const op of l.queue.splice(0)) this.failOp(op);
      for (const op of l.inflight.values()) this.failOp(op);
      l.inflight.clear();
    }
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
  get queuedOps(): number { return this.queued; }

  // ---- data path (called by NexusProxy) ------------------------------------------------------

  dataOutBuffer(bytes: number): Uint8Array | undefined {
    const h = this.pool.get(bytes);
    if (h < 0) return undefined;
    const v = this.pool.view(h).subarray(0, bytes);
    this.transportBuffers.set(v, h);
    return v;
  }

  submit(p: NexusProxy, req: CommandRequest, done: CompletionCallback): void {
    if (p.isClosed) { done(aborted()); return; }
    const { link, dest } = this.route(p, req.lun);
    const late = req.dataOutLater !== undefined && req.dataOut === undefined;
    const op: CmdOp = { kind: 'cmd', proxy: p, req, done, dest, seq: this.seq(), late, handle: NO_BUFFER, rejected: false };
    if (req.dataOut) {
      const h = this.transportBuffers.get(req.dataOut);
      if (h !== undefined) { this.transportBuffers.delete(req.dataOut); op.handle = h; }
    }
    if (!this.enqueue(link, op)) return;
    if (late) req.dataOutLater!(data => {
      if (op.rejected || p.lost) return;
      this.enqueue(link, { kind: 'data', proxy: p, cmd: op, data, handle: NO_BUFFER });
    });
  }

  taskManagement(p: NexusProxy, req: TmfRequest): Promise<TmfResponse> {
    if (p.isClosed) return Promise.resolve(TmfResponse.FUNCTION_REJECTED);
    const nexusWide = req.fn === TmfFunction.I_T_NEXUS_RESET || req.fn === TmfFunction.TARGET_WARM_RESET ||
      req.fn === TmfFunction.TARGET_COLD_RESET;
    const send = (link: Link, dest: number): Promise<TmfResponse> => new Promise(resolve => {
      this.enqueue(link, {
        kind: 'tmf', proxy: p, fn: req.fn, lun: req.lun, refTag: req.refTag ?? 0, dest, seq: this.seq(), resolve,
      });
    });
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
      await Promise.all(this.links.map(l => new Promise<TmfResponse>(resolve => {
        if (l.failed) { resolve(TmfResponse.FUNCTION_COMPLETE); return; }
        this.enqueue(l, { kind: 'tmf', proxy: p, fn, lun: 0, refTag: 0, dest: THREAD_ACTOR, seq: this.seq(), resolve });
      })));
    }
    this.proxies.delete(p.id);
    await p.dir.close(reason);
  }

  // ---- routing and queues --------------------------------------------------------------------

  private seq(): number {
    const s = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0 || 1;
    return s;
  }

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

  /** Sends now or queues (FIFO per thread); false when the operation was refused (TASK SET FULL). */
  private enqueue(link: Link, op: Op): boolean {
    if (link.failed) { this.failOp(op); return op.kind !== 'cmd'; }
    if (link.queue.length === 0 && this.canSend(link, op) && this.write(link, op)) return true;
    if (op.kind === 'cmd' && this.queued >= (this.opts.queueBound ?? 4096)) {
      // SAM-5 5.3.1: TASK SET FULL when the target cannot accept the command now.
      op.rejected = true;
      this.counters.taskSetFull++;
      if (op.handle !== NO_BUFFER) { this.pool.put(op.handle); op.handle = NO_BUFFER; }
      op.done({ status: Status.TASK_SET_FULL, residualKind: ResidualKind.NONE, residual: 0 });
      return false;
    }
    link.queue.push(op);
    this.queued++;
    this.counters.queuedOps++;
    this.armRetry(link);
    return true;
  }

  private canSend(link: Link, op: Op): boolean {
    return link.ready && link.scheduler !== null && !op.proxy.opening.has(link.index);
  }

  private pump(link: Link): void {
    while (link.queue.length > 0) {
      const op = link.queue[0];
      if (!this.canSend(link, op) || !this.write(link, op)) break;
      link.queue.shift();
      this.queued--;
    }
    if (link.queue.length > 0) this.armRetry(link);
  }

  private pumpAll(): void {
    if (this.pumpQueued || this.queued === 0) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      for (const l of this.links) if (l.queue.length > 0) this.pump(l);
    });
  }

  private armRetry(link: Link): void {
    if (link.retryTimer !== null || this.stopping) return;
    link.retryTimer = setTimeout(() => {
      link.retryTimer = null;
      this.pump(link);
    }, MIN_RETRY_MS);
  }

  /** Puts `data` into a pool buffer; NO_BUFFER when none is free; SPILL_BUFFER when too big. */
  private stage(data: Uint8Array): number {
    if (data.length > this.pool.maxBufferBytes) return SPILL_BUFFER;
    const h = this.pool.get(data.length);
    if (h < 0) return NO_BUFFER;
    this.pool.view(h).set(data);
    return h;
  }

  /** Writes one operation's descriptor; false = backpressure (ring full or pool empty). */
  private write(link: Link, op: Op): boolean {
    const s = link.scheduler!;
    switch (op.kind) {
      case 'cmd': {
        const data = op.req.dataOut;
        if (data && data.length > 0 && op.handle === NO_BUFFER) {
          op.handle = this.stage(data);
          if (op.handle === NO_BUFFER) return false;
        }
        const d = s.send(op.dest);
        if (d === null) return false;
        d.kind = DescKind.COMMAND;
        d.sequence = op.seq;
        d.tag = op.req.tag;
        d.nexusId = op.proxy.id;
        d.lun = op.req.lun;
        d.taskAttribute = toDescAttr(op.req.attr);
        d.writeCdb(op.req.cdb);
        d.expectedDataTransferLength = op.req.expectedLength;
        d.bufferHandle = op.handle;
        d.dataLength = data ? data.length : 0;
        d.flags = op.late ? DescFlag.DATA_LATER : 0;
        d.sourceActor = MAIN_ACTOR;
        if (op.handle === SPILL_BUFFER) {
          this.counters.spilledOut++;
          this.post(link, { type: 'spillData', sequence: op.seq, bytes: Uint8Array.prototype.slice.call(data!) });
        }
        op.handle = NO_BUFFER; // the engine thread owns it now
        link.inflight.set(op.seq, op);
        return true;
      }
      case 'data': {
        if (op.data && op.handle === NO_BUFFER) {
          op.handle = this.stage(op.data);
          if (op.handle === NO_BUFFER) return false;
        }
        const d = s.send(op.cmd.dest);
        if (d === null) return false;
        d.kind = DescKind.DATA_OUT;
        d.sequence = op.cmd.seq;
        d.nexusId = op.proxy.id;
        d.bufferHandle = op.data ? op.handle : NO_BUFFER;
        d.dataLength = op.data ? op.data.length : 0;
        d.flags = op.data ? 0 : DescFlag.DATA_FAILED;
        d.sourceActor = MAIN_ACTOR;
        if (op.handle === SPILL_BUFFER) {
          this.counters.spilledOut++;
          this.post(link, { type: 'spillData', sequence: op.cmd.seq, bytes: Uint8Array.prototype.slice.call(op.data!) });
        }
        op.handle = NO_BUFFER;
        return true;
      }
      case 'tmf': {
        const d = s.send(op.dest);
        if (d === null) return false;
        d.kind = DescKind.TMF;
        d.sequence = op.seq;
        d.nexusId = op.proxy.id;
        d.lun = op.lun;
        d.tmfFunction = op.fn;
        d.referencedTag = op.refTag;
        d.bufferHandle = NO_BUFFER;
        d.flags = 0;
        d.sourceActor = MAIN_ACTOR;
        link.inflight.set(op.seq, op);
        return true;
      }
    }
  }

  /** Completes an operation that can no longer be carried out (thread lost, engine closing). */
  private failOp(op: Op): void {
    if (op.kind === 'cmd') {
      if (op.handle !== NO_BUFFER && op.handle !== SPILL_BUFFER) this.pool.put(op.handle);
      op.handle = NO_BUFFER;
      op.rejected = true;
      op.done(aborted());
    } else if (op.kind === 'tmf') {
      op.resolve(op.fn >= NexusCloseFn.LOSS ? TmfResponse.FUNCTION_COMPLETE : TmfResponse.FUNCTION_REJECTED);
    } else if (op.handle !== NO_BUFFER && op.handle !== SPILL_BUFFER) {
      this.pool.put(op.handle);
    }
  }

  // ---- completions ---------------------------------------------------------------------------

  /** A descriptor from a completion ring (valid only during the call). */
  onDescriptor(link: Link, d: DescriptorCursor): void {
    const seq = d.sequence;
    const op = link.inflight.get(seq);
    if (d.kind === DescKind.TMF_DONE) {
      if (op && op.kind === 'tmf') {
        link.inflight.delete(seq);
        op.resolve(d.tmfResponse);
      }
    } else if (d.kind === DescKind.COMPLETION) {
      const h = d.bufferHandle;
      if (!op || op.kind !== 'cmd') {
        if (h !== NO_BUFFER && h !== SPILL_BUFFER) this.pool.put(h);
        return;
      }
      link.inflight.delete(seq);
      const flags = d.flags;
      const c: Completion = {
        status: d.status,
        residualKind: d.residualKind as number as ResidualKind,
        residual: d.residual,
      };
      const senseLength = d.senseLength;
      if (senseLength > 0) {
        const sense = Buffer.allocUnsafe(senseLength);
        d.readSense(sense);
        c.sense = sense;
      }
      if ((flags & DescFlag.ABORTED) !== 0) c.aborted = true;
      if ((flags & DescFlag.NEXUS_GONE) !== 0 && !op.proxy.closedByTransport) this.lose(op.proxy);
      if (h === SPILL_BUFFER) {
        const bytes = link.spills.get(seq);
        if (bytes === undefined) {
          link.parked.set(seq, { c, done: op.done });
          return;
        }
        link.spills.delete(seq);
        c.data = bytes;
        this.counters.spilledIn++;
      } else if (h !== NO_BUFFER) {
        c.data = this.pool.view(h).subarray(0, d.dataLength);
        let released = false;
        c.release = () => {
          if (released) return;
          released = true;
          this.pool.put(h);
          this.pumpAll();
        };
      }
      op.done(c);
    }
    if (this.queued > 0) this.pumpAll();
  }

  private onControl(link: Link, m: ControlMessage): void {
    switch (m.type) {
      case 'threadReady': {
        link.ready = true;
        for (const p of this.proxies.values()) if (!p.isClosed) this.mirrorOpen(link, p);
        for (const w of link.readyWaiters.splice(0)) w();
        this.pump(link);
        break;
      }
      case 'nexusOpened': {
        const p = this.proxies.get(m.nexusId);
        if (!p) break;
        p.opening.delete(link.index);
        this.pump(link);
        break;
      }
      case 'spillData': {
        const parked = link.parked.get(m.sequence);
        if (parked) {
          link.parked.delete(m.sequence);
          parked.c.data = m.bytes;
          this.counters.spilledIn++;
          parked.done(parked.c);
        } else {
          link.spills.set(m.sequence, m.bytes);
        }
        break;
      }
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
    };
    const ts = __filename.endsWith('.ts');
    const w = new Worker(path.join(__dirname, ts ? 'lun-thread.ts' : 'lun-thread.js'), {
      execArgv: ts ? ['--require', 'tsx/cjs'] : [],
      workerData: { lunThread: true, data },
    });
    link.worker = w;
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
    const hit = new Set<NexusProxy>();
    for (const op of link.inflight.values()) hit.add(op.proxy);
    for (const p of this.proxies.values()) if (p.dir.units().some(u => home.has(u.name))) hit.add(p);
    const inflight = [...link.inflight.values()];
    link.inflight.clear();
    link.spills.clear();
    for (const pk of link.parked.values()) pk.done(aborted());
    link.parked.clear();
    for (const op of inflight) this.failOp(op);
    for (const p of hit) this.lose(p);
    for (const p of this.proxies.values()) p.opening.delete(link.index);
    const max = this.opts.maxRestarts ?? 3;
    if (link.restarts >= max) {
      link.failed = true;
      for (const op of link.queue.splice(0)) { this.queued--; this.failOp(op); }
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

  /** The nexus is gone engine-side: fail what is queued, tell the other threads, tell the transport. */
  private lose(p: NexusProxy): void {
    if (p.lost || p.closedByTransport) return;
    p.lost = true;
    for (const l of this.links) {
      const keep: Op[] = [];
      for (const op of l.queue) {
        if (op.proxy === p) { this.queued--; this.failOp(op); } else keep.push(op);
      }
      l.queue.length = 0;
      l.queue.push(...keep);
    }
    for (const l of this.links) {
      if (l.failed || !l.ready) continue;
      const op: TmfOp = {
        kind: 'tmf', proxy: p, fn: NexusCloseFn.LOSS, lun: 0, refTag: 0, dest: THREAD_ACTOR, seq: this.seq(),
        resolve: () => undefined,
      };
      // Bypass the closed check of enqueue: this close is the engine's own.
      l.queue.push(op);
      this.queued++;
      this.pump(l);
    }
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
