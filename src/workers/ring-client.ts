// The one ring client: the sending side of the descriptor protocol (actor-protocol.ts), used by
// each mesh member's ThreadEngine (thread-engine.ts) to reach units on its peers. It turns commands, late
// Data-Out, task management and nexus opens into descriptors, queues them FIFO per destination
// thread while a ring is full or the pool is empty, and matches completions to callers.
//
// Buffers: Data-Out is copied once into a pool buffer (or was received straight into one, see
// dataOutBuffer); Data-In arrives in a pool buffer that the Completion's release() returns. Data
// larger than the largest pool class spills beside the descriptor (hooks.postSpill).
// A buffer sent in a descriptor stays tagged with this thread until the receiver adopts it; if the
// receiver dies first, the supervisor returns it when it drains the rings into the dead thread
// (supervisor.ts), so nothing here frees a buffer once it was sent.
// Data-In is adopted from the thread behind the link (its index is its pool owner id).
//
// Backpressure: nothing is dropped; only a local queue longer than `queueBound` answers
// TASK SET FULL (SAM-5 5.3.1).

import type { CommandRequest, Completion, CompletionCallback } from '../engine/command';
import { ResidualKind } from '../engine/command';
import { Status, TmfResponse } from '../engine/spec/status';
import type { NexusIdentity } from '../engine/nexus';
import type { BufferPool } from './buffer-pool';
import { DescKind, DescriptorCursor, NO_BUFFER } from './ring/descriptor';
import type { Scheduler } from './scheduler';
import { DescFlag, NexusCloseFn, SPILL_BUFFER } from './actor-protocol';

/** What the client needs of a nexus: its id on the rings and whether it still takes work. */
export interface RingNexus {
  readonly id: number;
}

export interface CmdOp<N extends RingNexus> {
  readonly kind: 'cmd';
  readonly nexus: N;
  readonly req: CommandRequest;
  readonly done: CompletionCallback;
  readonly dest: number;
  readonly seq: number;
  readonly late: boolean;
  handle: number;
  rejected: boolean;
}
export interface DataOp<N extends RingNexus> {
  readonly kind: 'data';
  readonly nexus: N;
  readonly cmd: CmdOp<N>;
  readonly data: Uint8Array | undefined;
  handle: number;
}
export interface TmfOp<N extends RingNexus> {
  readonly kind: 'tmf';
  readonly nexus: N;
  readonly fn: number;
  readonly lun: number;
  readonly refTag: number;
  readonly dest: number;
  readonly seq: number;
  readonly resolve: (r: TmfResponse) => void;
}
/** Opens the nexus on the destination thread; ordered before every later descriptor there. */
export interface OpenOp<N extends RingNexus> {
  readonly kind: 'open';
  readonly nexus: N;
  readonly dest: number;
  readonly identity: Uint8Array;
  handle: number;
}
export type RingOp<N extends RingNexus> = CmdOp<N> | DataOp<N> | TmfOp<N> | OpenOp<N>;

interface Parked { readonly c: Completion; readonly done: CompletionCallback }

/** One destination thread as the client sees it. */
export interface RingLink<N extends RingNexus> {
  /** The destination thread: its engine-thread index, which is also its pool owner id. */
  readonly index: number;
  scheduler: Scheduler | null;
  readonly queue: RingOp<N>[];
  readonly inflight: Map<number, CmdOp<N> | TmfOp<N>>;
  /** Spilled Data-In that arrived before its completion descriptor. */
  readonly spills: Map<number, Uint8Array>;
  /** Completions waiting for their spilled Data-In. */
  readonly parked: Map<number, Parked>;
  retryTimer: NodeJS.Timeout | null;
}

export function newRingLink<N extends RingNexus>(index: number): RingLink<N> {
  return { index, scheduler: null, queue: [], inflight: new Map(), spills: new Map(), parked: new Map(), retryTimer: null };
}

export interface RingClientHooks<N extends RingNexus, L extends RingLink<N>> {
  /** The destination takes descriptors for this nexus now (thread up, nexus mirrored). */
  canSend(link: L, nexus: N): boolean;
  /** The destination is gone for good: operations fail at once. */
  isFailed(link: L): boolean;
  /** Data that fits no pool buffer travels beside the descriptor with the same sequence. */
  postSpill(link: L, sequence: number, bytes: Uint8Array): void;
  /** A completion said the nexus is not open on its thread (lost with a dead thread). */
  nexusGone(nexus: N): void;
}

export interface RingClientOptions {
  /** Actor id that completions come back to (sourceActor of every descriptor sent). */
  readonly sourceActor: number;
  /** Operations queued locally (ring full, pool empty) before TASK SET FULL (default 4096). */
  readonly queueBound?: number;
}

const MIN_RETRY_MS = 1;

export function abortedCompletion(): Completion {
  return { status: Status.TASK_ABORTED, residualKind: ResidualKind.NONE, residual: 0, aborted: true };
}

/** NEXUS_OPEN payload: the identity as NUL-separated UTF-8 fields (target, initiator, isid, tpgt, portal). */
export function encodeNexusIdentity(ident: NexusIdentity): Uint8Array {
  return Buffer.from(`${ident.targetName}\0${ident.initiatorName}\0${ident.isid ?? ''}\0${ident.tpgt ?? 0}\0${ident.portal ?? ''}`, 'utf8');
}

export function decodeNexusIdentity(bytes: Uint8Array): NexusIdentity | undefined {
  const f = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\0');
  if (f.length !== 5) return undefined;
  const tpgt = Number(f[3]);
  if (!Number.isInteger(tpgt) || tpgt < 0) return undefined;
  const ident: NexusIdentity = { targetName: f[0], initiatorName: f[1], isid: f[2] === '' ? undefined : f[2], tpgt: tpgt === 0 ? undefined : tpgt };
  if (f[4] !== '') ident.portal = f[4];
  return ident;
}

export class RingClient<N extends RingNexus, L extends RingLink<N>> {
  private readonly transportBuffers = new WeakMap<Uint8Array, number>();
  private nextSeq = 1;
  private queuedOps = 0;
  private pumpQueued = false;
  private stopping = false;
  /** Operations that waited in a local queue, TASK SET FULLs, spills each way, descriptors sent. */
  readonly counters = { queuedOps: 0, taskSetFull: 0, spilledIn: 0, spilledOut: 0, sent: 0 };

  constructor(
    readonly pool: BufferPool,
    private readonly links: readonly L[],
    private readonly hooks: RingClientHooks<N, L>,
    private readonly opts: RingClientOptions,
  ) {}

  /** Operations waiting in local queues (backpressure). */
  get queued(): number { return this.queuedOps; }

  seq(): number {
    const s = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0 || 1;
    return s;
  }

  /**
   * A pool buffer of `bytes` to receive Data-Out into (no copy when passed back as `dataOut`);
   * undefined when the pool has none free or `bytes` exceeds the largest class.
   */
  dataOutBuffer(bytes: number): Uint8Array | undefined {
    const h = this.pool.get(bytes);
    if (h < 0) return undefined;
    const v = this.pool.view(h).subarray(0, bytes);
    this.transportBuffers.set(v, h);
    return v;
  }

  /** Sends a command to actor `dest` on `link`; Data-Out given later is hooked up here. */
  command(link: L, nexus: N, req: CommandRequest, done: CompletionCallback, dest: number, alive: () => boolean): void {
    const late = req.dataOutLater !== undefined && req.dataOut === undefined;
    const op: CmdOp<N> = { kind: 'cmd', nexus, req, done, dest, seq: this.seq(), late, handle: NO_BUFFER, rejected: false };
    if (req.dataOut) {
      const h = this.transportBuffers.get(req.dataOut);
      if (h !== undefined) { this.transportBuffers.delete(req.dataOut); op.handle = h; }
    }
    if (!this.enqueue(link, op)) return;
    if (late) req.dataOutLater!(data => {
      if (op.rejected || !alive()) return;
      this.enqueue(link, { kind: 'data', nexus, cmd: op, data, handle: NO_BUFFER });
    });
  }

  /** Task management (or a NexusCloseFn) for actor `dest` on `link`. */
  tmf(link: L, nexus: N, fn: number, lun: number, refTag: number, dest: number): Promise<TmfResponse> {
    return new Promise(resolve => {
      this.enqueue(link, { kind: 'tmf', nexus, fn, lun, refTag, dest, seq: this.seq(), resolve });
    });
  }

  /** Mirrors `nexus` onto the thread of actor `dest` (NEXUS_OPEN, ordered before later commands). */
  open(link: L, nexus: N, ident: NexusIdentity, dest: number): void {
    this.enqueue(link, { kind: 'open', nexus, dest, identity: encodeNexusIdentity(ident), handle: NO_BUFFER });
  }

  /** Queues an engine-initiated close behind everything already queued, even on a closing nexus. */
  closeQuietly(link: L, nexus: N, dest: number): void {
    if (this.hooks.isFailed(link)) return;
    link.queue.push({ kind: 'tmf', nexus, fn: NexusCloseFn.LOSS, lun: 0, refTag: 0, dest, seq: this.seq(), resolve: () => undefined });
    this.queuedOps++;
    this.pump(link);
  }

  /** Fails every queued operation of `nexus` (it was lost). */
  dropQueued(nexus: N): void {
    for (const l of this.links) {
      const keep: RingOp<N>[] = [];
      for (const op of l.queue) {
        if (op.nexus === nexus) { this.queuedOps--; this.failOp(op); } else keep.push(op);
      }
      l.queue.length = 0;
      l.queue.push(...keep);
    }
  }

  /** The thread behind `link` died: fail what it held; returns the nexuses that had work there. */
  failInflight(link: L): Set<N> {
    const hit = new Set<N>();
    const inflight = [...link.inflight.values()];
    link.inflight.clear();
    link.spills.clear();
    for (const pk of link.parked.values()) pk.done(abortedCompletion());
    link.parked.clear();
    for (const op of inflight) { hit.add(op.nexus); this.failOp(op); }
    return hit;
  }

  /** Fails everything queued for `link` (it will not come back). */
  failQueued(link: L): void {
    for (const op of link.queue.splice(0)) { this.queuedOps--; this.failOp(op); }
  }

  /** Engine shutdown: nothing more is sent; everything outstanding completes aborted. */
  close(): void {
    this.stopping = true;
    for (const l of this.links) {
      if (l.retryTimer) clearTimeout(l.retryTimer);
      l.retryTimer = null;
      for (const op of l.queue.splice(0)) this.failOp(op);
      for (const op of l.inflight.values()) this.failOp(op);
      l.inflight.clear();
    }
    this.queuedOps = 0;
  }

  // ---- queues --------------------------------------------------------------------------------

  /** Sends now or queues (FIFO per thread); false when the operation was refused (TASK SET FULL). */
  private enqueue(link: L, op: RingOp<N>): boolean {
    if (this.hooks.isFailed(link)) { this.failOp(op); return op.kind !== 'cmd'; }
    if (link.queue.length === 0 && this.canSend(link, op) && this.write(link, op)) return true;
    if (op.kind === 'cmd' && this.queuedOps >= (this.opts.queueBound ?? 4096)) {
      // SAM-5 5.3.1: TASK SET FULL when the target cannot accept the command now.
      op.rejected = true;
      this.counters.taskSetFull++;
      if (op.handle !== NO_BUFFER) { this.pool.put(op.handle); op.handle = NO_BUFFER; }
      op.done({ status: Status.TASK_SET_FULL, residualKind: ResidualKind.NONE, residual: 0 });
      return false;
    }
    link.queue.push(op);
    this.queuedOps++;
    this.counters.queuedOps++;
    this.armRetry(link);
    return true;
  }

  private canSend(link: L, op: RingOp<N>): boolean {
    return link.scheduler !== null && this.hooks.canSend(link, op.nexus);
  }

  /** Sends what the queue of `link` holds, in order, until backpressure. */
  pump(link: L): void {
    while (link.queue.length > 0) {
      const op = link.queue[0];
      if (!this.canSend(link, op) || !this.write(link, op)) break;
      link.queue.shift();
      this.queuedOps--;
    }
    if (link.queue.length > 0) this.armRetry(link);
  }

  pumpAll(): void {
    if (this.pumpQueued || this.queuedOps === 0) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      for (const l of this.links) if (l.queue.length > 0) this.pump(l);
    });
  }

  private armRetry(link: L): void {
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
  private write(link: L, op: RingOp<N>): boolean {
    const s = link.scheduler!;
    const src = this.opts.sourceActor;
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
        d.nexusId = op.nexus.id;
        d.lun = op.req.lun;
        d.taskAttribute = op.req.attr;
        d.writeCdb(op.req.cdb);
        d.expectedDataTransferLength = op.req.expectedLength;
        d.bufferHandle = op.handle;
        d.dataLength = data ? data.length : 0;
        d.flags = op.late ? DescFlag.DATA_LATER : 0;
        d.sourceActor = src;
        if (op.handle === SPILL_BUFFER) {
          this.counters.spilledOut++;
          this.hooks.postSpill(link, op.seq, Uint8Array.prototype.slice.call(data!));
        }
        op.handle = NO_BUFFER; // the other thread owns it now
        link.inflight.set(op.seq, op);
        break;
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
        d.nexusId = op.nexus.id;
        d.bufferHandle = op.data ? op.handle : NO_BUFFER;
        d.dataLength = op.data ? op.data.length : 0;
        d.flags = op.data ? 0 : DescFlag.DATA_FAILED;
        d.sourceActor = src;
        if (op.handle === SPILL_BUFFER) {
          this.counters.spilledOut++;
          this.hooks.postSpill(link, op.cmd.seq, Uint8Array.prototype.slice.call(op.data!));
        }
        op.handle = NO_BUFFER;
        break;
      }
      case 'tmf': {
        const d = s.send(op.dest);
        if (d === null) return false;
        d.kind = DescKind.TMF;
        d.sequence = op.seq;
        d.nexusId = op.nexus.id;
        d.lun = op.lun;
        d.tmfFunction = op.fn;
        d.referencedTag = op.refTag;
        d.bufferHandle = NO_BUFFER;
        d.flags = 0;
        d.sourceActor = src;
        link.inflight.set(op.seq, op);
        break;
      }
      case 'open': {
        if (op.handle === NO_BUFFER) {
          op.handle = this.stage(op.identity);
          if (op.handle === NO_BUFFER || op.handle === SPILL_BUFFER) { op.handle = NO_BUFFER; return false; }
        }
        const d = s.send(op.dest);
        if (d === null) return false;
        d.kind = DescKind.NEXUS_OPEN;
        d.sequence = 0;
        d.nexusId = op.nexus.id;
        d.bufferHandle = op.handle;
        d.dataLength = op.identity.length;
        d.flags = 0;
        d.sourceActor = src;
        op.handle = NO_BUFFER;
        break;
      }
    }
    this.counters.sent++;
    return true;
  }

  /** Completes an operation that can no longer be carried out (thread lost, engine closing). */
  private failOp(op: RingOp<N>): void {
    if (op.kind === 'cmd') {
      if (op.handle !== NO_BUFFER && op.handle !== SPILL_BUFFER) this.pool.put(op.handle);
      op.handle = NO_BUFFER;
      op.rejected = true;
      op.done(abortedCompletion());
    } else if (op.kind === 'tmf') {
      op.resolve(op.fn >= NexusCloseFn.LOSS ? TmfResponse.FUNCTION_COMPLETE : TmfResponse.FUNCTION_REJECTED);
    } else if (op.handle !== NO_BUFFER && op.handle !== SPILL_BUFFER) {
      this.pool.put(op.handle);
      op.handle = NO_BUFFER;
    }
  }

  // ---- completions ---------------------------------------------------------------------------

  /** A descriptor from a completion ring (valid only during the call). */
  onDescriptor(link: L, d: DescriptorCursor): void {
    const seq = d.sequence;
    const op = link.inflight.get(seq);
    if (d.kind === DescKind.TMF_DONE) {
      if (op && op.kind === 'tmf') {
        link.inflight.delete(seq);
        op.resolve(d.tmfResponse);
      }
    } else if (d.kind === DescKind.COMPLETION) {
      const h = d.bufferHandle;
      // One CAS: the Data-In buffer is this thread's from here (reclaimed with it if it dies).
      const adopted = h === NO_BUFFER || h === SPILL_BUFFER || this.pool.adopt(h, link.index);
      if (!op || op.kind !== 'cmd') {
        if (h !== NO_BUFFER && h !== SPILL_BUFFER && adopted) this.pool.put(h);
        return;
      }
      link.inflight.delete(seq);
      if (!adopted) {
        // Not the sender's any more (reclaimed): the data cannot be trusted.
        op.done(abortedCompletion());
        return;
      }
      const flags = d.flags;
      const c: Completion = {
        status: d.status,
        residualKind: d.residualKind,
        residual: d.residual,
      };
      const senseLength = d.senseLength;
      if (senseLength > 0) {
        const sense = Buffer.allocUnsafe(senseLength);
        d.readSense(sense);
        c.sense = sense;
      }
      if ((flags & DescFlag.ABORTED) !== 0) c.aborted = true;
      if ((flags & DescFlag.NEXUS_GONE) !== 0) this.hooks.nexusGone(op.nexus);
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
    if (this.queuedOps > 0) this.pumpAll();
  }

  /** Spilled Data-In for `sequence` (it may arrive before or after its completion descriptor). */
  onSpill(link: L, sequence: number, bytes: Uint8Array): void {
    const parked = link.parked.get(sequence);
    if (parked) {
      link.parked.delete(sequence);
      parked.c.data = bytes;
      this.counters.spilledIn++;
      parked.done(parked.c);
    } else {
      link.spills.set(sequence, bytes);
    }
  }
}
