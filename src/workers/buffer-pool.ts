// Shared data-buffer pool (SCST's SGV cache): fixed size classes of page-aligned buffers carved
// out of shared-memory slabs, handed between threads as u32 handles inside descriptors, so data
// is never copied between actors (DESIGN §3).
//
// Memory
//   One slab per size class: `count * size` bytes from the allocator. Sizes are multiples of
//   4 KiB, so when the slab is page-aligned (native addon, DESIGN §10) every buffer is too and
//   can be the target of O_DIRECT I/O.
//
// Free lists
//   One bounded lock-free MPMC queue per class (Vyukov's sequence-numbered cells) in a control
//   SharedArrayBuffer. Every thread that attaches the pool can get and put; each cell carries its
//   own sequence number, so there is no ABA problem and no 64-bit CAS (and no BigInt allocation
//   on the hot path). Per class:
//
//     line 0: ENQ_POS         line 1: DEQ_POS         line 2: IN_USE HIGH_WATER GET_FAILS
//     cellSeq[q]  cellVal[q]  state[count]      (q = queue capacity, a power of two >= count)
//
//   A cell claimed by a thread that was preempted before filling (or releasing) it makes the
//   others wait for it (short spin, then 50 µs sleeps): the queue is never reported empty or
//   full while buffers exist, which keeps -1 an exact "all buffers are out".
//
//   state[i] is 0 while buffer i is free and owner+1 while it is out, `owner` being the small
//   integer of the thread that holds it (engine thread index; SUPERVISOR_OWNER for the main
//   thread). put() flips it back to 0 with a CAS, which turns a double put into an immediate
//   ERR_POOL_DOUBLE_PUT instead of a buffer handed to two commands.
//
// Ownership and reclaim (a thread that dies holding buffers)
//   get() tags the buffer with the caller's owner. A thread that takes a handle out of a
//   descriptor adopt()s it: one CAS from the sender's tag to its own, so at every moment the tag
//   names the one thread that may still touch the buffer. When a thread dies, reclaim(owner)
//   frees exactly the buffers tagged with it. It is only safe once no descriptor that carries
//   such a handle can still be read (the supervisor's peerDown / peerDownDone round and its
//   drain of the rings into the dead thread: supervisor.ts), and before a replacement with
//   the same owner id gets anything. putIfOwner(h, owner) frees a buffer only if `owner` still
//   holds it, so a sender freeing what a dead receiver never adopted races reclaim safely: one
//   CAS wins, the other does nothing.
//
// Handles
//   handle = (class << 24) | index: no table lookup to find the slab, and 0xffffffff (NO_BUFFER in
//   descriptors) can never be a valid handle because classes stop at 15.

import { NexusError } from '../engine/result';

export const PAGE_BYTES = 4096;
const MAX_CLASSES = 15;
const MAX_PER_CLASS = 1 << 24;
const CLASS_SHIFT = 24;
const INDEX_MASK = 0xffffff;
const POOL_MAGIC = 0x4e58504c; // "NXPL"
const LINE_WORDS = 16;
const H_MAGIC = 0;
const H_CLASSES = 1;
const H_PAUSE = 2; // always 0: a word to sleep on while backing off
const PAUSE_SPIN = 256;
const PAUSE_SLEEPS = 4000;
const HEADER_WORDS = LINE_WORDS;
const C_ENQ = 0;
const C_DEQ = LINE_WORDS;
const C_IN_USE = 2 * LINE_WORDS;
const C_HIGH_WATER = C_IN_USE + 1;
const C_GET_FAILS = C_IN_USE + 2;
const CLASS_HEADER_WORDS = 3 * LINE_WORDS;
/** A CAS loop that fails this often means the control block is corrupt, not contended. */
const CAS_LIMIT = 1 << 22;

export interface SizeClass {
  /** Buffer size in bytes: a multiple of 4096. */
  readonly size: number;
  /** Number of buffers of this size. */
  readonly count: number;
}

/** 4 KiB, 64 KiB and 1 MiB buffers; 2 + 8 + 16 MiB. */
export const DEFAULT_CLASSES: readonly SizeClass[] = [
  { size: 4 * 1024, count: 512 },
  { size: 64 * 1024, count: 128 },
  { size: 1024 * 1024, count: 16 },
];

/** Owner id of the supervisor (main thread); engine threads use their index (0..SUPERVISOR_OWNER-1). */
export const SUPERVISOR_OWNER = 255;
/** Largest owner id a pool accepts (state words hold owner + 1). */
export const MAX_OWNER = 0xffff;

export type SharedAllocator = (bytes: number) => SharedArrayBuffer;

export interface BufferPoolOptions {
  readonly classes?: readonly SizeClass[];
  /** Where slab memory comes from; default: the native addon's aligned memory if loaded, else SAB. */
  readonly allocate?: SharedAllocator;
  /** When a class is exhausted, try the next larger class before reporting -1 (default true). */
  readonly spill?: boolean;
  /** Owner id of the creating thread (default SUPERVISOR_OWNER). */
  readonly owner?: number;
}

/** Everything another thread needs to attach the same pool (structured-clone safe). */
export interface BufferPoolHandle {
  readonly classes: readonly SizeClass[];
  readonly control: SharedArrayBuffer;
  readonly slabs: readonly SharedArrayBuffer[];
  readonly spill: boolean;
}

export interface PoolClassStats {
  readonly size: number;
  readonly count: number;
  readonly inUse: number;
  readonly highWater: number;
  readonly getFails: number;
}

/** Error codes of the pool (thrown as NexusError): bugs and misuse only. */
export type BufferPoolErrorCode = 'ERR_POOL_CONFIG' | 'ERR_POOL_HANDLE' | 'ERR_POOL_DOUBLE_PUT' | 'ERR_POOL_CORRUPT' | 'ERR_POOL_OWNER';

function poolError(code: BufferPoolErrorCode, message: string): NexusError {
  return new NexusError(code, message);
}

interface ClassLayout {
  readonly base: number; // first word of the class header
  readonly qmask: number;
  readonly seq: number; // first word of cellSeq
  readonly val: number; // first word of cellVal
  readonly state: number; // first word of state
}

function layoutOf(classes: readonly SizeClass[]): { words: number; layout: ClassLayout[] } {
  let w = HEADER_WORDS;
  const layout: ClassLayout[] = [];
  for (const c of classes) {
    let q = 1;
    while (q < c.count) q <<= 1;
    const base = w;
    const seq = base + CLASS_HEADER_WORDS;
    const val = seq + q;
    const state = val + q;
    layout.push({ base, qmask: q - 1, seq, val, state });
    w = state + c.count;
    w = Math.ceil(w / LINE_WORDS) * LINE_WORDS;
  }
  return { words: w, layout };
}

function validate(classes: readonly SizeClass[]): void {
  if (classes.length === 0 || classes.length > MAX_CLASSES) {
    throw poolError('ERR_POOL_CONFIG', `need 1..${MAX_CLASSES} size classes`);
  }
  let prev = 0;
  for (const c of classes) {
    if (!Number.isInteger(c.size) || c.size <= 0 || c.size % PAGE_BYTES !== 0) {
      throw poolError('ERR_POOL_CONFIG', `class size ${c.size} is not a positive multiple of ${PAGE_BYTES}`);
    }
    if (c.size <= prev) throw poolError('ERR_POOL_CONFIG', 'size classes must be strictly increasing');
    if (!Number.isInteger(c.count) || c.count < 1 || c.count >= MAX_PER_CLASS) {
      throw poolError('ERR_POOL_CONFIG', `class ${c.size} count ${c.count} out of range`);
    }
    prev = c.size;
  }
}

function checkOwner(owner: number): void {
  if (!Number.isInteger(owner) || owner < 0 || owner > MAX_OWNER) {
    throw poolError('ERR_POOL_OWNER', `owner id ${owner} out of 0..${MAX_OWNER}`);
  }
}

interface NativeShape {
  available?: unknown;
  allocAlignedShared?: unknown;
}

let nativeAllocator: SharedAllocator | null | undefined;

/**
 * The native addon's page-aligned shared memory, if the addon is built and loaded; null otherwise.
 * Lazy and guarded: the pool works (unaligned) without the addon.
 */
export function nativeAlignedAllocator(): SharedAllocator | null {
  if (nativeAllocator !== undefined) return nativeAllocator;
  nativeAllocator = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../native') as NativeShape;
    const fn = mod.allocAlignedShared;
    if (mod.available === true && typeof fn === 'function') {
      nativeAllocator = (bytes: number): SharedArrayBuffer => {
        const sab: unknown = (fn as (n: number) => unknown)(bytes);
        if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < bytes) {
          throw poolError('ERR_POOL_CONFIG', 'native allocator did not return a SharedArrayBuffer');
        }
        return sab;
      };
    }
  } catch {
    nativeAllocator = null;
  }
  return nativeAllocator;
}

const plainAllocator: SharedAllocator = (bytes) => new SharedArrayBuffer(bytes);

export class BufferPool {
  readonly classes: readonly SizeClass[];
  readonly spill: boolean;
  /** Largest buffer get() can return. */
  readonly maxBufferBytes: number;
  /** Owner id of this attachment (one per thread): what get() and adopt() tag buffers with. */
  readonly owner: number;
  private readonly tag: number;
  private readonly control: SharedArrayBuffer;
  private readonly slabs: readonly SharedArrayBuffer[];
  private readonly i32: Int32Array;
  private readonly layout: ClassLayout[];
  private readonly sizes: Int32Array;
  private readonly views: (Uint8Array | undefined)[][];

  private constructor(h: BufferPoolHandle, owner: number) {
    validate(h.classes);
    checkOwner(owner);
    this.owner = owner;
    this.tag = owner + 1;
    this.classes = h.classes.map((c) => ({ size: c.size, count: c.count }));
    this.spill = h.spill;
    this.control = h.control;
    this.slabs = h.slabs;
    const { words, layout } = layoutOf(this.classes);
    if (h.control.byteLength < words * 4 || h.slabs.length !== this.classes.length) {
      throw poolError('ERR_POOL_CORRUPT', 'pool handle does not match its classes');
    }
    this.i32 = new Int32Array(h.control, 0, words);
    if (Atomics.load(this.i32, H_MAGIC) !== POOL_MAGIC || Atomics.load(this.i32, H_CLASSES) !== this.classes.length) {
      throw poolError('ERR_POOL_CORRUPT', 'control block is not a buffer pool');
    }
    this.classes.forEach((c, i) => {
      if (h.slabs[i].byteLength < c.size * c.count) {
        throw poolError('ERR_POOL_CORRUPT', `slab ${i} shorter than ${c.size * c.count} bytes`);
      }
    });
    this.layout = layout;
    this.sizes = Int32Array.from(this.classes.map((c) => c.size));
    this.maxBufferBytes = this.classes[this.classes.length - 1].size;
    this.views = this.classes.map((c) => new Array<Uint8Array | undefined>(c.count));
  }

  /** Creates the pool's memory and free lists (on the supervisor or the first engine thread). */
  static create(opts: BufferPoolOptions = {}): BufferPool {
    const classes = (opts.classes ?? DEFAULT_CLASSES).map((c) => ({ size: c.size, count: c.count }));
    validate(classes);
    const allocate = opts.allocate ?? nativeAlignedAllocator() ?? plainAllocator;
    const { words, layout } = layoutOf(classes);
    const control = new SharedArrayBuffer(words * 4);
    const i32 = new Int32Array(control);
    i32[H_MAGIC] = POOL_MAGIC;
    i32[H_CLASSES] = classes.length;
    classes.forEach((c, ci) => {
      const l = layout[ci];
      // Vyukov queue starts full: cell k holds buffer k with sequence k + 1 (ready to dequeue).
      for (let k = 0; k <= l.qmask; k++) {
        if (k < c.count) {
          i32[l.val + k] = k;
          i32[l.seq + k] = k + 1;
        } else {
          i32[l.seq + k] = k;
        }
      }
      i32[l.base + C_ENQ] = c.count;
      i32[l.base + C_DEQ] = 0;
    });
    const slabs = classes.map((c) => allocate(c.size * c.count));
    Atomics.store(i32, H_MAGIC, POOL_MAGIC);
    return new BufferPool({ classes, control, slabs, spill: opts.spill ?? true }, opts.owner ?? SUPERVISOR_OWNER);
  }

  /**
   * Attaches to a pool created on another thread, as `owner` (the attaching thread's id; each
   * live thread needs its own, and a replacement thread takes over its predecessor's id only
   * after reclaim(owner)).
   */
  static attach(h: BufferPoolHandle, owner: number = SUPERVISOR_OWNER): BufferPool {
    return new BufferPool(h, owner);
  }

  handle(): BufferPoolHandle {
    return { classes: this.classes, control: this.control, slabs: this.slabs, spill: this.spill };
  }

  /**
   * A buffer of at least `bytes` bytes, or -1 when none is free (backpressure: retry after a put)
   * or `bytes` exceeds maxBufferBytes (split the transfer).
   */
  get(bytes: number): number {
    const n = this.sizes.length;
    let c = 0;
    while (c < n && this.sizes[c] < bytes) c++;
    if (c === n) return -1;
    const first = c;
    const last = this.spill ? n - 1 : c;
    for (; c <= last; c++) {
      const idx = this.dequeue(c);
      if (idx >= 0) {
        const l = this.layout[c];
        if (Atomics.compareExchange(this.i32, l.state + idx, 0, this.tag) !== 0) {
          throw poolError('ERR_POOL_CORRUPT', `free list returned buffer ${idx} of class ${c} that is in use`);
        }
        const used = Atomics.add(this.i32, l.base + C_IN_USE, 1) + 1;
        this.raiseHighWater(l.base + C_HIGH_WATER, used);
        return (c << CLASS_SHIFT) | idx;
      }
    }
    Atomics.add(this.i32, this.layout[first].base + C_GET_FAILS, 1);
    return -1;
  }

  /**
   * Returns a buffer to its class, whoever holds it (the caller is its user by protocol).
   * Throws ERR_POOL_DOUBLE_PUT / ERR_POOL_HANDLE on misuse.
   */
  put(handle: number): void {
    const c = this.classOf(handle);
    const word = this.layout[c].state + (handle & INDEX_MASK);
    for (let i = 0; i < CAS_LIMIT; i++) {
      const cur = Atomics.load(this.i32, word);
      if (cur === 0) throw poolError('ERR_POOL_DOUBLE_PUT', `buffer handle ${handle} is not in use`);
      if (Atomics.compareExchange(this.i32, word, cur, 0) === cur) {
        this.release(c, handle & INDEX_MASK);
        return;
      }
    }
    throw poolError('ERR_POOL_CORRUPT', `state of buffer ${handle} never settles`);
  }

  /**
   * Takes over a buffer received in a descriptor from thread `from`: one CAS from `from`'s tag to
   * this attachment's. False when `from` does not hold it (it was reclaimed after `from` died, or
   * the descriptor is stale): the caller must not use or put the buffer.
   */
  adopt(handle: number, from: number): boolean {
    checkOwner(from); // never CAS from 0: that would take a free buffer
    const c = this.classOf(handle);
    return Atomics.compareExchange(this.i32, this.layout[c].state + (handle & INDEX_MASK), from + 1, this.tag) === from + 1;
  }

  /**
   * Returns a buffer only if `owner` holds it (one CAS owner+1 → 0); true when it was freed here.
   * How a thread frees a buffer whose holder may have died: this races reclaim(owner) and
   * adopt() safely, exactly one of them acting on the buffer.
   */
  putIfOwner(handle: number, owner: number): boolean {
    checkOwner(owner);
    const c = this.classOf(handle);
    const idx = handle & INDEX_MASK;
    if (Atomics.compareExchange(this.i32, this.layout[c].state + idx, owner + 1, 0) !== owner + 1) return false;
    this.release(c, idx);
    return true;
  }

  /** Whether `handle` names a buffer of this pool (a value read from a descriptor of a dead thread). */
  isHandle(handle: number): boolean {
    const c = handle >>> CLASS_SHIFT;
    return Number.isInteger(handle) && handle >= 0 && c < this.sizes.length && (handle & INDEX_MASK) < this.classes[c].count;
  }

  /** The owner id holding `handle`, or -1 when it is free. */
  ownerOf(handle: number): number {
    const c = this.classOf(handle);
    return Atomics.load(this.i32, this.layout[c].state + (handle & INDEX_MASK)) - 1;
  }

  /**
   * Frees every buffer `owner` holds (the thread died); returns how many. Call it only when no
   * live thread can still adopt or use such a buffer (see the header) and before a replacement
   * with the same owner id attaches. A scan of every state word: control path, not hot path.
   */
  reclaim(owner: number): number {
    checkOwner(owner);
    const tag = owner + 1;
    let n = 0;
    for (let c = 0; c < this.classes.length; c++) {
      const s = this.layout[c].state;
      const count = this.classes[c].count;
      for (let i = 0; i < count; i++) {
        if (Atomics.load(this.i32, s + i) === tag && Atomics.compareExchange(this.i32, s + i, tag, 0) === tag) {
          this.release(c, i);
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Buffers held by each owner id right now (index = owner; statistics). A scan of every state
   * word, like reclaim: control path, not hot path.
   */
  heldByOwner(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.classes.length; c++) {
      const s = this.layout[c].state;
      const count = this.classes[c].count;
      for (let i = 0; i < count; i++) {
        const tag = Atomics.load(this.i32, s + i);
        if (tag > 0) out[tag - 1] = (out[tag - 1] ?? 0) + 1;
      }
    }
    return out;
  }

  /** After the state word went to 0: the count and the free list follow. */
  private release(c: number, idx: number): void {
    Atomics.sub(this.i32, this.layout[c].base + C_IN_USE, 1);
    if (!this.enqueue(c, idx)) throw poolError('ERR_POOL_CORRUPT', `free list of class ${c} overflowed`);
  }

  /** Whole-buffer view of `handle`; cached per thread, so repeated calls allocate nothing. */
  view(handle: number): Uint8Array {
    const c = this.classOf(handle);
    const idx = handle & INDEX_MASK;
    const row = this.views[c];
    const v = row[idx];
    if (v !== undefined) return v;
    const size = this.sizes[c];
    const made = new Uint8Array(this.slabs[c], idx * size, size);
    row[idx] = made;
    return made;
  }

  /**
   * The handle of the buffer that starts where `view` starts, or -1 when `view` is not the start
   * of a buffer of this pool (how a receiver of a Completion finds the pool buffer it lives in).
   */
  handleAt(view: Uint8Array): number {
    const b = view.buffer;
    for (let c = 0; c < this.slabs.length; c++) {
      if (this.slabs[c] !== b) continue;
      const size = this.sizes[c];
      const off = view.byteOffset;
      if (off % size !== 0 || view.byteLength > size) return -1;
      return (c << CLASS_SHIFT) | (off / size);
    }
    return -1;
  }

  /** Size in bytes of the buffer behind `handle`. */
  sizeOf(handle: number): number {
    return this.sizes[this.classOf(handle)];
  }

  /** Slab and byte offset of `handle` (for native I/O that takes a slab + offset). */
  locate(handle: number): { slab: SharedArrayBuffer; byteOffset: number; size: number } {
    const c = this.classOf(handle);
    const size = this.sizes[c];
    return { slab: this.slabs[c], byteOffset: (handle & INDEX_MASK) * size, size };
  }

  stats(): PoolClassStats[] {
    return this.classes.map((c, i) => {
      const b = this.layout[i].base;
      return {
        size: c.size,
        count: c.count,
        inUse: Atomics.load(this.i32, b + C_IN_USE),
        highWater: Atomics.load(this.i32, b + C_HIGH_WATER),
        getFails: Atomics.load(this.i32, b + C_GET_FAILS),
      };
    });
  }

  private classOf(handle: number): number {
    const c = handle >>> CLASS_SHIFT;
    if (!Number.isInteger(handle) || handle < 0 || c >= this.sizes.length || (handle & INDEX_MASK) >= this.classes[c].count) {
      throw poolError('ERR_POOL_HANDLE', `not a buffer handle of this pool: ${handle}`);
    }
    return c;
  }

  /**
   * Back-off while another thread finishes a queue operation it has claimed: a short spin, then
   * 50 µs sleeps (the other thread was preempted and needs the core). False after ~200 ms, which
   * only a thread that died mid-operation can cause.
   */
  private pause(round: number): boolean {
    if (round < PAUSE_SPIN) return true;
    if (round > PAUSE_SPIN + PAUSE_SLEEPS) return false;
    Atomics.wait(this.i32, H_PAUSE, 0, 0.05);
    return true;
  }

  private raiseHighWater(word: number, used: number): void {
    for (let i = 0; i < CAS_LIMIT; i++) {
      const hw = Atomics.load(this.i32, word);
      if (used <= hw || Atomics.compareExchange(this.i32, word, hw, used) === hw) return;
    }
  }

  // Vyukov bounded MPMC queue: a cell is ready for the producer at position p when seq == p,
  // ready for the consumer when seq == p + 1. Positions are free-running int32, compared by
  // signed difference so they may wrap.
  private enqueue(c: number, value: number): boolean {
    const l = this.layout[c];
    const a = this.i32;
    let pos = Atomics.load(a, l.base + C_ENQ);
    for (let i = 0; i < CAS_LIMIT; i++) {
      const cell = pos & l.qmask;
      const dif = (Atomics.load(a, l.seq + cell) - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(a, l.base + C_ENQ, pos, (pos + 1) | 0);
        if (seen === pos) {
          Atomics.store(a, l.val + cell, value);
          Atomics.store(a, l.seq + cell, (pos + 1) | 0);
          return true;
        }
        pos = seen;
      } else if (dif > 0) {
        pos = Atomics.load(a, l.base + C_ENQ); // another producer took this position
      } else if (((pos - Atomics.load(a, l.base + C_DEQ)) | 0) > l.qmask) {
        return false; // truly full (cannot happen: the queue holds every buffer of the class)
      } else {
        // The cell's previous dequeuer claimed it but has not released it yet (it may have
        // been preempted): wait for it rather than report a full queue.
        if (!this.pause(i)) break;
        pos = Atomics.load(a, l.base + C_ENQ);
      }
    }
    throw poolError('ERR_POOL_CORRUPT', `enqueue on class ${c} made no progress`);
  }

  private dequeue(c: number): number {
    const l = this.layout[c];
    const a = this.i32;
    let pos = Atomics.load(a, l.base + C_DEQ);
    for (let i = 0; i < CAS_LIMIT; i++) {
      const cell = pos & l.qmask;
      const dif = (Atomics.load(a, l.seq + cell) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(a, l.base + C_DEQ, pos, (pos + 1) | 0);
        if (seen === pos) {
          const v = Atomics.load(a, l.val + cell);
          Atomics.store(a, l.seq + cell, (pos + l.qmask + 1) | 0);
          return v;
        }
        pos = seen;
      } else if (dif < 0) {
        if (Atomics.load(a, l.base + C_ENQ) === pos) return -1; // truly empty
        // An enqueue claimed this cell and has not filled it yet (preempted between its CAS and
        // its store): buffers behind it exist, so wait for it instead of reporting exhaustion.
        if (!this.pause(i)) return -1;
        pos = Atomics.load(a, l.base + C_DEQ);
      } else {
        pos = Atomics.load(a, l.base + C_DEQ);
      }
    }
    throw poolError('ERR_POOL_CORRUPT', `dequeue on class ${c} made no progress`);
  }
}
