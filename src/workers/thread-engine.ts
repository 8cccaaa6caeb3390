// ThreadEngine: the engine API as seen by the session actors of one mesh member, an engine thread
// or the calling thread in embedded mode (DESIGN.md §3: "when the session and the LUN live on the
// same thread the call is direct: no ring, no copy").
//
//  session ──execute──▶ ThreadNexus ──(unit homed here)──▶ ItNexus of this thread's Engine
//                                   └─(unit elsewhere)──▶ RingClient ─ring─▶ LUN actor on its home
//
// Every engine thread's Engine holds the whole topology (placeholders for units homed elsewhere,
// see lun-actor.ts), so a nexus opened here answers REPORT LUNS, unmapped LUNs and LUN masking
// locally. Commands for a unit homed on another thread go through the SPSC ring of the mesh
// (one ring per ordered pair of engine threads), batched by the scheduler: one doorbell per batch.
// The nexus is mirrored on each other home thread of its units by a NEXUS_OPEN descriptor, which
// the ring orders before every command that follows it.
//
// Nexus ids are unique across the mesh: thread+1 in the top byte, the thread's generation (it
// grows when a dead thread is replaced) in the next 4 bits, a counter below. A peer that dies
// takes every nexus with work on it down (SAM-5 I_T nexus loss; the transport closes those
// connections, the initiator logs in again); nexuses of the dead thread mirrored here are dropped.

import type { Engine } from '../engine/engine';
import type { ItNexus, NexusIdentity } from '../engine/nexus';
import type { CommandRequest, CompletionCallback, TmfRequest } from '../engine/command';
import { TmfFunction, TmfResponse } from '../engine/spec/status';
import type { EngineApi, NexusApi } from '../engine/engine-api';
import type { AsyncEventReport } from '../engine/command';
import type { TargetConfig } from '../engine/topology';
import type { BufferPool } from './buffer-pool';
import { DescKind, type DescriptorCursor } from './ring/descriptor';
import type { Actor, Scheduler } from './scheduler';
import { RingClient, RingLink, abortedCompletion, newRingLink } from './ring-client';
import { NexusCloseFn, lunActorId, lunDeviceIndex, sinkActorId } from './actor-protocol';

export interface ThreadEngineOptions {
  readonly threadIndex: number;
  /** Engine threads in the mesh. */
  readonly threads: number;
  /** Grows each time this thread index is replaced after a death (0..15 used in nexus ids). */
  readonly generation: number;
  /** The thread's Engine (real units for its home devices, placeholders for the rest). */
  readonly engine: Engine;
  readonly scheduler: Scheduler;
  readonly pool: BufferPool;
  /** Device names in topology order and the engine thread each one is homed on. */
  readonly devices: readonly string[];
  readonly homeThread: readonly number[];
  /** Data that fits no pool buffer, to the peer thread `toThread` (via the control plane). */
  readonly postSpill: (toThread: number, toActor: number, sequence: number, bytes: Uint8Array) => void;
  readonly queueBound?: number;
}

/** Owner thread of a mesh nexus id. */
export function nexusOwner(id: number): number { return (id >>> 24) - 1; }
/** Generation of the owner thread that opened a mesh nexus id. */
export function nexusGeneration(id: number): number { return (id >>> 20) & 0xf; }

interface PeerLink extends RingLink<ThreadNexus> {
  up: boolean;
}

/** The NexusApi a session on an engine thread holds. */
export class ThreadNexus implements NexusApi {
  closedByTransport = false;
  lost = false;
  /** Called once when the engine loses the nexus (a thread hosting one of its units died). */
  onLost: (() => void) | undefined;
  onAsyncEvent: ((e: AsyncEventReport) => void) | undefined;

  constructor(
    readonly id: number,
    readonly ident: NexusIdentity,
    /** The nexus on this thread's Engine: local units execute here, directly. */
    readonly local: ItNexus,
    /** Other engine threads hosting units of this nexus (grows when a LUN on another thread is mapped). */
    readonly remote: number[],
    private readonly engine: ThreadEngine,
  ) {}

  get initiatorName(): string { return this.ident.initiatorName; }
  get targetName(): string { return this.ident.targetName; }
  get isClosed(): boolean { return this.closedByTransport || this.lost; }

  execute(req: CommandRequest, done: CompletionCallback): void { this.engine.submit(this, req, done); }
  taskManagement(req: TmfRequest): Promise<TmfResponse> { return this.engine.taskManagement(this, req); }
  close(reason: 'loss' | 'logout'): Promise<void> { return this.engine.closeNexus(this, reason); }

  /**
   * A pool buffer of `bytes` to receive Data-Out into (no copy on execute when passed back as
   * `dataOut` for a unit on another thread); undefined when the pool has none free or `bytes`
   * exceeds the largest class.
   */
  dataOutBuffer(bytes: number): Uint8Array | undefined { return this.engine.dataOutBuffer(bytes); }

  /** The CDB's own transfer length in bytes, from this thread's LUN map. */
  transferLengthFor(lun: number, cdb: Uint8Array): number | undefined { return this.local.transferLengthFor(lun, cdb); }
}

/** Receives the answers to this thread's descriptors. */
class SinkActor implements Actor {
  constructor(readonly id: number, private readonly engine: ThreadEngine) {}
  receive(d: DescriptorCursor): void { this.engine.onDescriptor(d); }
}

export class ThreadEngine implements EngineApi {
  readonly threadIndex: number;
  private readonly links: PeerLink[] = [];
  private readonly client: RingClient<ThreadNexus, PeerLink>;
  private readonly deviceIndex = new Map<string, number>();
  /** Home thread of each unit by mesh index (grows with units added while running). */
  private readonly homes: number[];
  /** Per thread: an actor there that takes nexus-wide descriptors (any of its LUN actors). */
  private readonly anchor: number[] = [];
  private readonly nexuses = new Map<number, ThreadNexus>();
  private nextNexus = 1;
  /** Commands executed on this thread directly and sent to another thread's unit. */
  readonly counters = { localCommands: 0, remoteCommands: 0, localTmfs: 0, remoteTmfs: 0, lostNexuses: 0 };

  constructor(private readonly opts: ThreadEngineOptions) {
    const self = opts.threadIndex;
    this.threadIndex = self;
    this.homes = [...opts.homeThread];
    const threads = opts.threads;
    for (let t = 0; t < threads; t++) {
      const l: PeerLink = { ...newRingLink<ThreadNexus>(t), up: t !== self };
      l.scheduler = t === self ? null : opts.scheduler;
      this.links.push(l);
      this.anchor.push(-1);
    }
    opts.devices.forEach((name, i) => {
      this.deviceIndex.set(name, i);
      const home = opts.homeThread[i];
      if (this.anchor[home] < 0) this.anchor[home] = lunActorId(i);
      if (home !== self) opts.scheduler.setRoute(lunActorId(i), home);
    });
    for (let t = 0; t < threads; t++) if (t !== self) opts.scheduler.setRoute(sinkActorId(t), t);
    this.client = new RingClient<ThreadNexus, PeerLink>(opts.pool, this.links, {
      canSend: l => l.up,
      isFailed: () => false,
      postSpill: (l, sequence, bytes) => opts.postSpill(l.index, this.anchorOf(l.index), sequence, bytes),
      nexusGone: p => this.lose(p),
    }, { sourceActor: sinkActorId(self), queueBound: opts.queueBound });
    opts.scheduler.register(new SinkActor(sinkActorId(self), this));
  }

  get ringCounters(): RingClient<ThreadNexus, PeerLink>['counters'] { return this.client.counters; }

  /** Operations waiting in local queues (ring full, pool empty). */
  get queuedOps(): number { return this.client.queued; }

  /** This thread's Engine (its home units; placeholders for the others). */
  get unitEngine(): Engine { return this.opts.engine; }

  dataOutBuffer(bytes: number): Uint8Array | undefined { return this.client.dataOutBuffer(bytes); }

  // ---- EngineApi -----------------------------------------------------------------------------

  targetNames(): string[] { return this.opts.engine.targetNames(); }
  targetConfig(name: string): TargetConfig | undefined { return this.opts.engine.targetConfig(name); }
  canSee(targetName: string, initiatorName: string): boolean { return this.opts.engine.canSee(targetName, initiatorName); }
  groupFor(targetName: string, initiatorName: string): string | undefined { return this.opts.engine.groupFor(targetName, initiatorName); }

  openNexus(ident: NexusIdentity): ThreadNexus | undefined {
    const local = this.opts.engine.openNexus(ident);
    if (!local) return undefined;
    const remote = new Set<number>();
    for (const lu of local.units()) {
      const t = this.homeOf(lu.name);
      if (t !== this.threadIndex) remote.add(t);
    }
    const counter = this.nextNexus;
    this.nextNexus = (this.nextNexus + 1) & 0xfffff || 1;
    const id = (((this.threadIndex + 1) << 24) | ((this.opts.generation & 0xf) << 20) | counter) >>> 0;
    const p = new ThreadNexus(id, ident, local, [...remote].sort((a, b) => a - b), this);
    // SAM-5 6.5: a condition of a unit homed here is reported from here; one of a unit homed on
    // another thread only by that thread (ASYNC_EVENT, onDescriptor), since this Engine's unit for
    // it is a placeholder that sees only the changes every thread applies.
    local.reportsFor = lu => this.homeOf(lu.name) === this.threadIndex;
    local.onAsyncEvent = e => p.onAsyncEvent?.(e);
    this.nexuses.set(id, p);
    for (const t of p.remote) this.client.open(this.links[t], p, ident, this.anchorOf(t));
    return p;
  }

  /** A unit added while running (reconfigure.ts): its mesh index and home thread. */
  addUnit(name: string, index: number, home: number): void {
    this.deviceIndex.set(name, index);
    this.homes[index] = home;
    if (this.anchor[home] < 0) this.anchor[home] = lunActorId(index);
    if (home !== this.threadIndex) this.opts.scheduler.setRoute(lunActorId(index), home);
  }

  /**
   * A unit removed while running (after Engine.removeDevice): its LUN actor is gone, so nexus-wide
   * descriptors for its thread go to another unit there; a thread left without units of a nexus
   * leaves the nexus's remote list (nothing of it runs there any more).
   */
  removeUnit(name: string): void {
    const index = this.deviceIndex.get(name);
    if (index === undefined) return;
    this.deviceIndex.delete(name);
    const home = this.homes[index];
    if (this.anchor[home] !== lunActorId(index)) return;
    const other = [...this.deviceIndex.values()].find(j => this.homes[j] === home);
    this.anchor[home] = other === undefined ? -1 : lunActorId(other);
    if (other !== undefined || home === this.threadIndex) return;
    for (const p of this.nexuses.values()) {
      const k = p.remote.indexOf(home);
      if (k >= 0) p.remote.splice(k, 1);
    }
  }

  /**
   * A LUN map changed: a nexus whose map now reaches a unit on a thread it has no nexus on yet
   * opens one there, so that the unit's commands find it (as openNexus does for the first units).
   */
  unitsChanged(): void {
    for (const p of this.nexuses.values()) {
      if (p.isClosed) continue;
      for (const lu of p.local.units()) {
        const t = this.homeOf(lu.name);
        if (t === this.threadIndex || p.remote.includes(t)) continue;
        p.remote.push(t);
        p.remote.sort((a, b) => a - b);
        this.client.open(this.links[t], p, p.ident, this.anchorOf(t));
      }
    }
  }

  /** Closes every nexus opened here (the thread's Engine is closed by its owner). */
  async close(): Promise<void> {
    await Promise.all([...this.nexuses.values()].map(p => p.close('logout')));
    this.client.close();
  }

  // ---- data path -----------------------------------------------------------------------------

  submit(p: ThreadNexus, req: CommandRequest, done: CompletionCallback): void {
    if (p.isClosed) { done(abortedCompletion()); return; }
    const i = this.unitIndex(p, req.lun);
    const home = i < 0 ? this.threadIndex : this.homes[i];
    if (home === this.threadIndex) {
      // Same thread: the unit's own pipeline, no descriptor, no copy.
      this.counters.localCommands++;
      p.local.execute(req, done);
      return;
    }
    this.counters.remoteCommands++;
    this.client.command(this.links[home], p, req, done, lunActorId(i), () => !p.lost);
  }

  taskManagement(p: ThreadNexus, req: TmfRequest): Promise<TmfResponse> {
    if (p.isClosed) return Promise.resolve(TmfResponse.FUNCTION_REJECTED);
    const nexusWide = req.fn === TmfFunction.I_T_NEXUS_RESET || req.fn === TmfFunction.TARGET_WARM_RESET ||
      req.fn === TmfFunction.TARGET_COLD_RESET;
    if (!nexusWide) {
      const i = this.unitIndex(p, req.lun);
      const home = i < 0 ? this.threadIndex : this.homes[i];
      if (home === this.threadIndex) {
        this.counters.localTmfs++;
        return p.local.taskManagement(req);
      }
      this.counters.remoteTmfs++;
      return this.client.tmf(this.links[home], p, req.fn, req.lun, req.refTag ?? 0, lunActorId(i));
    }
    // SAM-5 7.11 / 7.12: every unit of the nexus (or target) is affected, wherever it lives.
    this.counters.localTmfs++;
    this.counters.remoteTmfs += p.remote.length;
    return Promise.all([
      p.local.taskManagement(req),
      ...p.remote.map(t => this.client.tmf(this.links[t], p, req.fn, req.lun, req.refTag ?? 0, this.anchorOf(t))),
    ]).then(rs => rs.find(r => r !== TmfResponse.FUNCTION_COMPLETE) ?? TmfResponse.FUNCTION_COMPLETE);
  }

  async closeNexus(p: ThreadNexus, reason: 'loss' | 'logout'): Promise<void> {
    if (p.closedByTransport) return;
    const wasLost = p.lost;
    p.closedByTransport = true;
    this.nexuses.delete(p.id);
    if (!wasLost) {
      const fn = reason === 'loss' ? NexusCloseFn.LOSS : NexusCloseFn.LOGOUT;
      await Promise.all(p.remote.map(t => this.client.tmf(this.links[t], p, fn, 0, 0, this.anchorOf(t))));
    }
    await p.local.close(reason);
  }

  /** A descriptor answered by a peer thread (valid only during the call). */
  onDescriptor(d: DescriptorCursor): void {
    if (d.kind === DescKind.ASYNC_EVENT) { this.asyncEvent(d); return; }
    const i = lunDeviceIndex(d.sourceActor);
    if (i < 0 || i >= this.homes.length) return;
    this.client.onDescriptor(this.links[this.homes[i]], d);
  }

  /** A unit homed on another thread reports a condition to a nexus of this thread (lun-actor.ts). */
  private asyncEvent(d: DescriptorCursor): void {
    const p = this.nexuses.get(d.nexusId);
    if (p === undefined || p.isClosed || p.onAsyncEvent === undefined) return;
    const sense = new Uint8Array(d.senseLength);
    d.readSense(sense);
    p.onAsyncEvent({ lun: d.lun, sense });
  }

  /** Spilled Data-In from peer `fromThread`. */
  spillArrived(fromThread: number, sequence: number, bytes: Uint8Array): void {
    const l = this.links[fromThread];
    if (l) this.client.onSpill(l, sequence, bytes);
  }

  // ---- supervision ---------------------------------------------------------------------------

  /**
   * Peer `t` died: what it held completes aborted and every nexus with a unit there is lost. Its
   * replacement takes descriptors again after peerUp. What the dead thread published towards
   * this thread is dropped unread, before anything else: none of it may execute, and the pool
   * buffers it carries are still tagged with the dead thread, which the supervisor reclaims once
   * every survivor acknowledged (peerDownDone). Returns how many descriptors were dropped.
   */
  peerDown(t: number): number {
    const l = this.links[t];
    if (!l || t === this.threadIndex) return 0;
    const dropped = this.opts.scheduler.discardFrom(t);
    l.up = false;
    const hit = this.client.failInflight(l);
    for (const p of this.nexuses.values()) if (p.remote.includes(t)) hit.add(p);
    for (const p of hit) this.lose(p);
    return dropped;
  }

  peerUp(t: number): void {
    const l = this.links[t];
    if (!l || t === this.threadIndex) return;
    l.up = true;
    this.client.pump(l);
  }

  /** Nexuses this thread opened and has not closed or lost. */
  get openNexuses(): number { return this.nexuses.size; }

  private lose(p: ThreadNexus): void {
    if (p.lost || p.closedByTransport) return;
    p.lost = true;
    this.counters.lostNexuses++;
    this.nexuses.delete(p.id);
    this.client.dropQueued(p);
    for (const t of p.remote) if (this.links[t].up) this.client.closeQuietly(this.links[t], p, this.anchorOf(t));
    void p.local.close('loss');
    p.onLost?.();
  }

  private unitIndex(p: ThreadNexus, lun: number): number {
    const e = p.local.map.entries.get(lun);
    return e ? this.deviceIndex.get(e.lu.name) ?? -1 : -1;
  }

  private homeOf(device: string): number {
    const i = this.deviceIndex.get(device);
    return i === undefined ? this.threadIndex : this.homes[i];
  }

  private anchorOf(t: number): number { return this.anchor[t]; }
}
