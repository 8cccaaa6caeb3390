// LUN actors (DESIGN.md §3): one per exported device, hosted by the scheduler of the engine
// thread the device is homed on (supervisor.ts placement), or by the calling thread's scheduler
// in embedded mode with 0 engine threads. A LUN actor owns its unit: the task set, ordering,
// reservations and the device handler with its backstore.
//
// Every scheduler's LunActorHost owns an Engine built from the whole topology, in which only its
// *home* devices have real backstores; every other device is an inert placeholder (a null store,
// no file opened) so the LUN maps are complete on every thread: REPORT LUNS, LUN masking and
// "LOGICAL UNIT NOT SUPPORTED" answer the same wherever a command lands. Placeholders never
// receive commands: a session's ThreadEngine (thread-engine.ts) sends a command to the home
// thread of the unit its LUN maps to.
//
// Commands arrive as descriptors addressed to a LUN actor from a peer thread's completion sink;
// completions go back with inline sense and Data-In in a pool buffer. When the ring back is
// full, completions wait in an outbox and are retried when the sender frees slots.
//
// Pool buffers (buffer-pool.ts ownership): a buffer received in a descriptor is adopted from
// its sender (the engine thread whose completion sink sent it) before it is read, so if this
// thread dies while using it the supervisor's reclaim of this thread's owner id returns it. A
// buffer that cannot be adopted is not the sender's any more: its data is not used and it is
// not put.

import { Engine, EngineOptions } from '../engine/engine';
import { NexusError } from '../engine/result';
import { Lease, readBuffers } from '../engine/read-buffers';
import type { ItNexus } from '../engine/nexus';
import type { Completion, CommandRequest } from '../engine/command';
import { TmfFunction, TmfResponse } from '../engine/spec/status';
import { NullBackstore } from '../engine/backstores/null';
import type { DeviceConfig, TargetConfig } from '../engine/topology';
import type { Backstore } from '../engine/types';
import { BufferPool, SUPERVISOR_OWNER } from './buffer-pool';
import { DescKind, DescriptorCursor, NO_BUFFER } from './ring/descriptor';
import { decodeNexusIdentity } from './ring-client';
import { Actor, Scheduler } from './scheduler';
import type { BufferPoolHandle } from './buffer-pool';
import type { SchedulerOptions, ThreadRings } from './scheduler';
import { DescFlag, NexusCloseFn, SPILL_BUFFER, lunActorId, sinkActorId, sinkThread } from './actor-protocol';
import { nexusOwner } from './thread-engine';

/** Pool owner id of the thread that sent a descriptor from actor `source`. */
export function senderOwner(source: number): number {
  const t = sinkThread(source);
  return t >= 0 ? t : SUPERVISOR_OWNER;
}

function isPoolHandle(h: number): boolean {
  return h !== NO_BUFFER && h !== SPILL_BUFFER;
}

/** A completion waiting for a free slot on the completion ring. */
interface Outgoing {
  /** Actor that sent the request (where the answer goes) and the actor answering. */
  dest: number;
  from: number;
  kind: DescKind;
  sequence: number;
  tag: number;
  nexusId: number;
  status: number;
  flags: number;
  sense: Uint8Array | undefined;
  residualKind: number;
  residual: number;
  handle: number;
  dataLength: number;
  tmfResponse: number;
  /** ASYNC_EVENT: the LUN the condition is reported at (other kinds: 0). */
  lun: number;
}

/** Data-Out of a DATA_LATER command: the pipeline's callback, the data, or both. */
interface LateData {
  cb?: (data: Uint8Array | undefined) => void;
  arrived: boolean;
  data?: Uint8Array;
  handle: number;
}

export type OpenStore = (cfg: DeviceConfig) => Promise<Backstore>;

/** What one scheduler's LUN actors are built from (structured-clone safe but `rings`' owner). */
export interface LunHostConfig {
  readonly threadIndex: number;
  readonly devices: readonly DeviceConfig[];
  readonly targets: readonly TargetConfig[];
  /** Names of the devices whose logical units live on this scheduler. */
  readonly home: readonly string[];
  readonly rings: ThreadRings;
  readonly pool: BufferPoolHandle;
  readonly scheduler: SchedulerOptions;
  /** Where the home units keep persistent state (APTPL reservations); '' = none. */
  readonly stateDir: string;
  /**
   * Reads of the home units lease pool buffers (leaseSource), so Data-In for a session on another
   * thread travels in the buffer the backstore read into. An engine thread does; the calling
   * thread, whose sessions reach its units directly, keeps the heap cache.
   */
  readonly lendReadBuffers: boolean;
}

/** Sends spilled Data-In towards the actor `dest` that asked for it. */
export type SpillSender = (dest: number, sequence: number, bytes: Uint8Array) => void;

/**
 * Late Data-Out and spills are keyed per sender: several threads send to one LUN actor in the
 * engine-thread mesh (thread-engine.ts), each with its own sequence numbers.
 *
 * Per-operation state keyed by (sending actor, sequence). Two levels rather than one packed number:
 * actor ids use the high bits of a u32, so source * 2^32 + sequence is past 2^53 and distinct
 * operations would round to the same key (their late Data-Out would then be handed to each other).
 */
class OpTable<T> {
  private readonly bySource = new Map<number, Map<number, T>>();

  get(source: number, sequence: number): T | undefined {
    return this.bySource.get(source)?.get(sequence);
  }

  has(source: number, sequence: number): boolean {
    return this.bySource.get(source)?.has(sequence) ?? false;
  }

  set(source: number, sequence: number, v: T): void {
    let m = this.bySource.get(source);
    if (m === undefined) {
      m = new Map();
      this.bySource.set(source, m);
    }
    m.set(sequence, v);
  }

  delete(source: number, sequence: number): void {
    const m = this.bySource.get(source);
    if (m === undefined) return;
    m.delete(sequence);
    if (m.size === 0) this.bySource.delete(source);
  }
}

export class LunActorHost {
  private readonly nexuses = new Map<number, ItNexus>();
  private readonly late = new OpTable<LateData>();
  /** Spilled Data-Out that arrived before its COMMAND descriptor was read. */
  private readonly earlySpill = new OpTable<Uint8Array>();
  /** Sequence of the last COMMAND read per sending actor (sequences grow per sender). */
  private readonly lastCommandSeq = new Map<number, number>();
  private readonly outbox: Outgoing[] = [];
  private retrying = false;
  /** Data-In handed over in the pool buffer the backstore read into, and Data-In copied into one. */
  readonly counters = { dataInLent: 0, dataInCopied: 0 };
  private readonly senseScratch = new Uint8Array(96);
  /** Mesh index of every unit this thread knows (its LUN actor's id, lunActorId). */
  private readonly unitIndex = new Map<string, number>();

  constructor(
    readonly threadIndex: number,
    readonly engine: Engine,
    readonly scheduler: Scheduler,
    readonly pool: BufferPool,
    private readonly spill: SpillSender,
    /** Names of the devices homed here: the Engine opens their backstores, placeholders for the rest. */
    private readonly home: Set<string>,
  ) {}

  /**
   * Opens the thread's Engine (real backstores for home devices, placeholders for the others),
   * registers the LUN actors on a scheduler over `data.rings` and starts it.
   */
  static async start(
    data: LunHostConfig, spill: SpillSender, open: OpenStore, engineOpts: Omit<EngineOptions, 'openBackstore'> = {},
  ): Promise<LunActorHost> {
    const home = new Set(data.home);
    const engine = await Engine.create({ devices: [...data.devices], targets: [...data.targets], stateDir: data.stateDir || undefined }, {
      ...engineOpts,
      openBackstore: cfg => home.has(cfg.name)
        ? open(cfg)
        : Promise.resolve(new NullBackstore({ sizeBytes: cfg.sizeBytes, readOnly: cfg.readOnly, thin: cfg.thin })),
    });
    const scheduler = new Scheduler(data.rings, data.scheduler);
    const host = new LunActorHost(data.threadIndex, engine, scheduler, BufferPool.attach(data.pool, data.threadIndex), spill, home);
    data.devices.forEach((d, i) => {
      host.unitIndex.set(d.name, i);
      if (home.has(d.name)) scheduler.register(new LunActor(lunActorId(i), d.name, host));
    });
    if (data.lendReadBuffers && home.size > 0) readBuffers.useSource(host.leaseSource);
    scheduler.start();
    return host;
  }

  // ---- control plane -------------------------------------------------------------------------

  /** Devices homed here now (their units have real backstores). */
  get homeDevices(): string[] { return [...this.home]; }

  /**
   * A unit added while the mesh runs (reconfigure.ts): its backstore opened here when it is homed
   * here (and its LUN actor registered under its mesh index), a placeholder otherwise.
   */
  async addUnit(cfg: DeviceConfig, index: number, homeHere: boolean): Promise<void> {
    if (homeHere) this.home.add(cfg.name);
    try {
      await this.engine.addDevice(cfg);
    } catch (e) {
      this.home.delete(cfg.name);
      throw e;
    }
    this.unitIndex.set(cfg.name, index);
    if (homeHere) this.scheduler.register(new LunActor(lunActorId(index), cfg.name, this));
  }

  /** After Engine.removeDevice: the unit's LUN actor, if it was homed here, goes too. */
  removeUnit(name: string, index: number): void {
    this.unitIndex.delete(name);
    if (!this.home.delete(name)) return;
    this.scheduler.unregister(lunActorId(index));
  }


  openNexus(m: { nexusId: number; targetName: string; initiatorName: string; isid: string; tpgt: number; portal: string }): string {
    if (this.nexuses.has(m.nexusId)) return '';
    const n = this.engine.openNexus({
      targetName: m.targetName, initiatorName: m.initiatorName,
      isid: m.isid === '' ? undefined : m.isid, tpgt: m.tpgt === 0 ? undefined : m.tpgt,
      ...(m.portal === '' ? {} : { portal: m.portal }),
    });
    if (!n) return `no target "${m.targetName}"`;
    // SAM-5 6.5: conditions of this thread's units go to the session's thread (the nexus id names
    // it), which reports them to the initiator; placeholders' are reported by their home threads.
    const sink = sinkActorId(nexusOwner(m.nexusId));
    n.reportsFor = lu => this.home.has(lu.name);
    n.onAsyncEvent = e => {
      const from = this.unitIndex.get(n.map.entries.get(e.lun)?.lu.name ?? '');
      if (from === undefined) return;
      this.post({
        dest: sink, from: lunActorId(from), kind: DescKind.ASYNC_EVENT, sequence: 0, tag: 0, nexusId: m.nexusId, status: 0, flags: 0,
        sense: e.sense, residualKind: 0, residual: 0, handle: NO_BUFFER, dataLength: 0, tmfResponse: 0, lun: e.lun,
      });
    };
    this.nexuses.set(m.nexusId, n);
    return '';
  }

  /** Nexuses mirrored here whose id satisfies `owned` are lost (their owner thread died). */
  dropNexuses(owned: (nexusId: number) => boolean): void {
    for (const [id, n] of this.nexuses) {
      if (!owned(id)) continue;
      this.nexuses.delete(id);
      void n.close('loss');
    }
  }

  spillArrived(sequence: number, bytes: Uint8Array, source: number): void {
    // The spill message and the ring are separate channels: the bytes may come first.
    if (!this.late.has(source, sequence) && ((sequence - (this.lastCommandSeq.get(source) ?? 0)) | 0) > 0) {
      this.earlySpill.set(source, sequence, bytes);
      return;
    }
    this.lateArrived(source, sequence, bytes, NO_BUFFER);
  }

  // ---- data path -----------------------------------------------------------------------------

  /** One descriptor from the request ring; it is only valid during this call. */
  receive(d: DescriptorCursor): void {
    switch (d.kind) {
      case DescKind.COMMAND: this.command(d); break;
      case DescKind.TMF: this.tmf(d); break;
      case DescKind.DATA_OUT: {
        const h = d.bufferHandle;
        if (h === SPILL_BUFFER) break; // the bytes come as spillData
        const failed = (d.flags & DescFlag.DATA_FAILED) !== 0 || h === NO_BUFFER || !this.pool.adopt(h, senderOwner(d.sourceActor));
        this.lateArrived(d.sourceActor, d.sequence, failed ? undefined : this.pool.view(h).subarray(0, d.dataLength), failed ? NO_BUFFER : h);
        break;
      }
      case DescKind.NEXUS_OPEN: this.nexusOpen(d); break;
      default: break;
    }
  }

  /** NEXUS_OPEN from a peer thread: the identity is in a pool buffer, returned here. */
  private nexusOpen(d: DescriptorCursor): void {
    const h = d.bufferHandle;
    if (!isPoolHandle(h) || !this.pool.adopt(h, senderOwner(d.sourceActor))) return;
    const ident = decodeNexusIdentity(this.pool.view(h).subarray(0, d.dataLength));
    this.pool.put(h);
    // A target this thread does not know leaves the nexus unopened: its commands answer NEXUS_GONE.
    if (ident) this.openNexus({ nexusId: d.nexusId, targetName: ident.targetName, initiatorName: ident.initiatorName, isid: ident.isid ?? '', tpgt: ident.tpgt ?? 0, portal: ident.portal ?? '' });
  }

  private command(d: DescriptorCursor): void {
    const sequence = d.sequence;
    const source = d.sourceActor;
    const self = d.destActor;
    this.lastCommandSeq.set(source, sequence);
    const tag = d.tag;
    const nexusId = d.nexusId;
    const n = this.nexuses.get(nexusId);
    const h = d.bufferHandle;
    const early = this.earlySpill.get(source, sequence);
    if (early) this.earlySpill.delete(source, sequence);
    const flags = d.flags;
    // Adopted before anything else: from here on the Data-Out buffer is this thread's to return.
    const adopted = !isPoolHandle(h) || this.pool.adopt(h, senderOwner(source));
    if (!n || !adopted) {
      if (isPoolHandle(h) && adopted) this.pool.put(h);
      const gone = n ? 0 : DescFlag.NEXUS_GONE;
      this.emit(source, self, DescKind.COMPLETION, sequence, tag, nexusId, 0, DescFlag.ABORTED | gone, undefined, 0, 0, NO_BUFFER, 0, 0);
      return;
    }
    const req: CommandRequest = {
      lun: d.lun,
      // The one copy of the CDB out of the slot: the task keeps it after the slot is reused.
      cdb: d.cdb(),
      tag,
      attr: d.taskAttribute,
      expectedLength: d.expectedDataTransferLength,
    };
    let dataHandle = NO_BUFFER;
    if ((flags & DescFlag.DATA_LATER) !== 0 || h === SPILL_BUFFER) {
      const late = this.lateFor(source, sequence);
      if (early) { late.arrived = true; late.data = early; }
      req.dataOutLater = cb => {
        if (late.arrived) cb(late.data);
        else late.cb = cb;
      };
    } else if (h !== NO_BUFFER) {
      dataHandle = h;
      req.dataOut = this.pool.view(h).subarray(0, d.dataLength);
    }
    n.execute(req, c => this.completed(source, self, sequence, tag, nexusId, c, dataHandle));
  }

  private lateFor(source: number, sequence: number): LateData {
    let l = this.late.get(source, sequence);
    if (!l) {
      l = { arrived: false, handle: NO_BUFFER };
      this.late.set(source, sequence, l);
    }
    return l;
  }

  private lateArrived(source: number, sequence: number, data: Uint8Array | undefined, handle: number): void {
    const l = this.late.get(source, sequence);
    if (!l) {
      // The command already completed (aborted, or the CDB needed no data): drop the data.
      if (handle !== NO_BUFFER) this.pool.put(handle);
      return;
    }
    l.arrived = true;
    l.data = data;
    l.handle = handle;
    const cb = l.cb;
    l.cb = undefined;
    cb?.(data);
  }

  private completed(
    source: number, self: number, sequence: number, tag: number, nexusId: number, c: Completion, dataOutHandle: number,
  ): void {
    if (dataOutHandle !== NO_BUFFER) this.pool.put(dataOutHandle);
    const l = this.late.get(source, sequence);
    if (l) {
      this.late.delete(source, sequence);
      if (l.handle !== NO_BUFFER) this.pool.put(l.handle);
    }
    let handle = NO_BUFFER;
    let dataLength = 0;
    const data = c.data;
    const lent = data !== undefined && data.length > 0 && c.release !== undefined ? this.pool.handleAt(data) : -1;
    if (lent >= 0 && this.pool.ownerOf(lent) === this.pool.owner) {
      // DESIGN.md §3: the backstore read into a pool buffer (leaseSource); the buffer itself goes
      // to the session's thread, which writes it to the socket and puts it back. No copy, and no
      // release here: the descriptor carries the ownership.
      dataLength = data!.length;
      handle = lent;
      this.counters.dataInLent++;
    } else {
      if (data && data.length > 0) {
        dataLength = data.length;
        const got = this.pool.get(dataLength);
        if (got >= 0) {
          // Data the store lent (the null store's zeros) or read into a heap buffer.
          this.pool.view(got).set(data);
          handle = got;
          this.counters.dataInCopied++;
        } else {
          // Larger than the largest pool class, or the pool is empty: spill (actor-protocol.ts).
          handle = SPILL_BUFFER;
          this.spill(source, sequence, Uint8Array.prototype.slice.call(data));
        }
      }
      // The bytes are copied out: a leased read buffer goes back.
      c.release?.();
    }
    const flags = c.aborted ? DescFlag.ABORTED : 0;
    this.emit(source, self, DescKind.COMPLETION, sequence, tag, nexusId, c.status, flags, c.sense, c.residualKind, c.residual, handle, dataLength, 0);
  }

  private tmf(d: DescriptorCursor): void {
    const sequence = d.sequence;
    const source = d.sourceActor;
    const self = d.destActor;
    const nexusId = d.nexusId;
    const fn = d.tmfFunction;
    const tag = d.tag;
    const n = this.nexuses.get(nexusId);
    const answer = (r: TmfResponse): void =>
      this.emit(source, self, DescKind.TMF_DONE, sequence, tag, nexusId, 0, 0, undefined, 0, 0, NO_BUFFER, 0, r);
    if (fn === NexusCloseFn.LOSS || fn === NexusCloseFn.LOGOUT) {
      if (!n) { answer(TmfResponse.FUNCTION_COMPLETE); return; }
      this.nexuses.delete(nexusId);
      n.close(fn === NexusCloseFn.LOSS ? 'loss' : 'logout').then(
        () => answer(TmfResponse.FUNCTION_COMPLETE),
        () => answer(TmfResponse.FUNCTION_REJECTED),
      );
      return;
    }
    if (!n) { answer(TmfResponse.FUNCTION_REJECTED); return; }
    const refTag = d.referencedTag;
    const fnCode = fn as TmfFunction;
    const hasRef = fnCode === TmfFunction.ABORT_TASK || fnCode === TmfFunction.QUERY_TASK;
    n.taskManagement({ fn: fnCode, lun: d.lun, refTag: hasRef ? refTag : undefined }).then(
      answer,
      () => answer(TmfResponse.FUNCTION_REJECTED),
    );
  }

  private emit(
    dest: number, from: number, kind: DescKind, sequence: number, tag: number, nexusId: number, status: number, flags: number,
    sense: Uint8Array | undefined, residualKind: number, residual: number, handle: number, dataLength: number,
    tmfResponse: number,
  ): void {
    this.post({ dest, from, kind, sequence, tag, nexusId, status, flags, sense, residualKind, residual, handle, dataLength, tmfResponse, lun: 0 });
  }

  private post(o: Outgoing): void {
    if (this.outbox.length > 0 || !this.write(o)) {
      this.outbox.push(o);
      this.retry();
    }
  }

  private write(o: Outgoing): boolean {
    const d = this.scheduler.send(o.dest);
    if (d === null) return false;
    d.kind = o.kind;
    d.sequence = o.sequence;
    d.tag = o.tag;
    d.nexusId = o.nexusId;
    d.status = o.status;
    d.flags = o.flags;
    d.residualKind = o.residualKind;
    d.residual = o.residual;
    d.bufferHandle = o.handle;
    d.dataLength = o.dataLength;
    d.tmfResponse = o.tmfResponse;
    d.lun = o.lun;
    d.sourceActor = o.from;
    if (o.sense && o.sense.length > 0) d.writeSense(o.sense);
    else d.writeSense(this.senseScratch, 0);
    return true;
  }

  /**
   * Completion ring full: wait for the requester to free slots, then send in order. A completion
   * whose requester has no route any more (its thread died) is dropped with its buffer.
   */
  private retry(): void {
    if (this.retrying) return;
    this.retrying = true;
    const again = (): void => {
      while (this.outbox.length > 0) {
        const o = this.outbox[0];
        if (!this.write(o)) {
          if (this.scheduler.hasRoute(o.dest)) break;
          if (o.handle !== NO_BUFFER && o.handle !== SPILL_BUFFER) this.pool.put(o.handle);
        }
        this.outbox.shift();
      }
      if (this.outbox.length === 0) { this.retrying = false; return; }
      this.scheduler.flush();
      void this.scheduler.waitWritable(this.outbox[0].dest, 50).then(again);
    };
    void this.scheduler.waitWritable(this.outbox[0].dest, 50).then(again);
  }

  /**
   * Read buffers of this thread's units come from the shared pool (read-buffers.ts useSource),
   * so a remote command's Data-In travels in the buffer the backstore read into. A Buffer view,
   * as the engine's leases are; released (put back) once, by whoever ends up holding it.
   */
  readonly leaseSource = (length: number): Lease | undefined => {
    const h = this.pool.get(length);
    if (h < 0) return undefined;
    const v = this.pool.view(h);
    const pool = this.pool;
    let given = false;
    return {
      data: Buffer.from(v.buffer, v.byteOffset, length),
      release: () => {
        if (given) return;
        given = true;
        pool.put(h);
      },
    };
  };

  async close(): Promise<void> {
    this.scheduler.stop();
    await this.engine.close();
    if (readBuffers.leaseSource === this.leaseSource) readBuffers.useSource(undefined);
  }
}

/** One exported device: its commands and per-LUN task management arrive here. */
class LunActor implements Actor {
  constructor(readonly id: number, readonly device: string, private readonly host: LunActorHost) {}
  receive(d: DescriptorCursor): void { this.host.receive(d); }
}
