// Single-producer single-consumer ring of command descriptors in one SharedArrayBuffer
// (layout and header words: layout.ts; sleeping and waking: doorbell.ts).
//
// Producer:  k = reserve(n)          claim up to n free slots (0 when full: backpressure)
//            writer(j).tag = ...      fill claimed slot j (0 <= j < reserved)
//            publish(k)               make them visible; one doorbell ring per batch, and only
//                                     if the consumer is parked
// Consumer:  n = peek()               descriptors ready
//            reader(i).tag            read descriptor i (0 <= i < n) in place
//            consume(n)               free them; rings the producer only if it parked on a full ring
//
// Indices are free-running u32 counters stored in Int32 words: all arithmetic is `>>> 0` and
// fill level is (tail - head) >>> 0, which stays right across the 2^32 wrap.
//
// Ordering: slot contents are written with plain stores and published by Atomics.store(TAIL);
// the consumer's Atomics.load(TAIL) synchronizes-with it, so it sees the contents (ECMA-262
// memory model: sequentially consistent atomics order the non-atomic accesses around them).

import { NexusError } from '../../engine/result';
import { DescriptorCursor } from './descriptor';
import { Doorbell, DoorbellHandle } from './doorbell';
import {
  DESCRIPTOR_BYTES,
  RING_HEADER_BYTES,
  RING_LAYOUT_VERSION,
  RING_MAGIC,
  RingHeader,
  ringBytes,
} from './layout';


/** What another thread needs to attach to a ring (structured-clone safe). */
export interface RingHandle {
  readonly buffer: SharedArrayBuffer;
  /** Doorbell the producer rings for the consumer; absent = the ring's own header words. */
  readonly consumerBell?: DoorbellHandle;
}

export interface RingOptions {
  /** Test hook: start both indices here (to exercise the 2^32 wrap). */
  readonly initialIndex?: number;
  /** Use this doorbell (e.g. a thread's single doorbell for all its inbound rings). */
  readonly consumerBell?: DoorbellHandle;
}

export class SpscRing {
  readonly capacity: number;
  private readonly mask: number;
  private readonly i32: Int32Array;
  /** Rung by the producer when the consumer is parked. */
  readonly consumerBell: Doorbell;
  /** Rung by the consumer when the producer is parked on a full ring. */
  readonly producerBell: Doorbell;
  private readonly wcur: DescriptorCursor;
  private readonly rcur: DescriptorCursor;
  // Producer-local: the published tail and how many slots past it are claimed.
  private tail: number;
  private claimed = 0;
  // Consumer-local copy of head.
  private head: number;

  private constructor(readonly buffer: SharedArrayBuffer, bell: DoorbellHandle | undefined) {
    this.i32 = new Int32Array(buffer, 0, RING_HEADER_BYTES >> 2);
    if (Atomics.load(this.i32, RingHeader.MAGIC) !== RING_MAGIC ||
        Atomics.load(this.i32, RingHeader.LAYOUT_VERSION) !== RING_LAYOUT_VERSION ||
        Atomics.load(this.i32, RingHeader.SLOT_BYTES) !== DESCRIPTOR_BYTES) {
      throw new NexusError('ERR_RING_CORRUPT', 'buffer is not a descriptor ring of this layout version');
    }
    this.capacity = Atomics.load(this.i32, RingHeader.CAPACITY);
    this.mask = this.capacity - 1;
    if (buffer.byteLength < ringBytes(this.capacity)) {
      throw new NexusError('ERR_RING_CORRUPT', 'ring buffer shorter than its capacity');
    }
    this.consumerBell = bell !== undefined
      ? Doorbell.attach(bell)
      : new Doorbell(buffer, RingHeader.CONSUMER_SEQ, RingHeader.CONSUMER_PARKED);
    this.producerBell = new Doorbell(buffer, RingHeader.PRODUCER_SEQ, RingHeader.PRODUCER_PARKED);
    this.wcur = new DescriptorCursor(buffer, RING_HEADER_BYTES, this.capacity);
    this.rcur = new DescriptorCursor(buffer, RING_HEADER_BYTES, this.capacity);
    this.tail = Atomics.load(this.i32, RingHeader.TAIL) >>> 0;
    this.head = Atomics.load(this.i32, RingHeader.HEAD) >>> 0;
  }

  /** Allocates and formats a ring of `capacity` (a power of two, 2..2^20) slots. */
  static create(capacity: number, opts: RingOptions = {}): SpscRing {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 20 || (capacity & (capacity - 1)) !== 0) {
      throw new NexusError('ERR_RING_CAPACITY', `ring capacity ${capacity} is not a power of two in 2..2^20`);
    }
    const buffer = new SharedArrayBuffer(ringBytes(capacity));
    const h = new Int32Array(buffer, 0, RING_HEADER_BYTES >> 2);
    h[RingHeader.MAGIC] = RING_MAGIC;
    h[RingHeader.LAYOUT_VERSION] = RING_LAYOUT_VERSION;
    h[RingHeader.CAPACITY] = capacity;
    h[RingHeader.SLOT_BYTES] = DESCRIPTOR_BYTES;
    const start = (opts.initialIndex ?? 0) | 0;
    h[RingHeader.TAIL] = start;
    Atomics.store(h, RingHeader.HEAD, start);
    return new SpscRing(buffer, opts.consumerBell);
  }

  /** Attaches to a ring created elsewhere (another thread's handle). */
  static attach(handle: RingHandle): SpscRing {
    return new SpscRing(handle.buffer, handle.consumerBell);
  }

  handle(): RingHandle {
    const bell = this.consumerBell.buffer === this.buffer ? undefined : this.consumerBell.handle();
    return bell === undefined ? { buffer: this.buffer } : { buffer: this.buffer, consumerBell: bell };
  }

  // ---- producer ------------------------------------------------------------------------------

  /**
   * Claims up to `n` more slots after those already claimed; returns how many were claimed
   * (0 when the ring is full). Claimed slots are written through writer(j) and made visible by
   * publish().
   */
  reserve(n: number): number {
    const head = Atomics.load(this.i32, RingHeader.HEAD) >>> 0;
    const used = ((this.tail - head) >>> 0) + this.claimed;
    if (used > this.capacity) throw new NexusError('ERR_RING_CORRUPT', `ring holds ${used} > ${this.capacity}`);
    const k = Math.min(n, this.capacity - used);
    this.claimed += k;
    return k;
  }

  /** Claimed-but-unpublished slots. */
  get reserved(): number {
    return this.claimed;
  }

  /** Cursor on claimed slot `j` (0 <= j < reserved). The cursor is shared: re-position per use. */
  writer(j: number): DescriptorCursor {
    return this.wcur.at((this.tail + j) & this.mask);
  }

  /**
   * Publishes the first `n` claimed slots (default: all) and rings the consumer if it is parked.
   * Returns true when a wake-up was issued.
   */
  publish(n: number = this.claimed): boolean {
    if (n > this.claimed || n < 0) throw new NexusError('ERR_RING_MISUSE', `publish(${n}) with ${this.claimed} claimed`);
    if (n === 0) return false;
    this.tail = (this.tail + n) >>> 0;
    this.claimed -= n;
    Atomics.store(this.i32, RingHeader.TAIL, this.tail | 0);
    return this.consumerBell.ring();
  }

  /** Free slots seen by the producer (ignores nothing claimed: capacity - used - claimed). */
  freeSlots(): number {
    const head = Atomics.load(this.i32, RingHeader.HEAD) >>> 0;
    return this.capacity - ((this.tail - head) >>> 0) - this.claimed;
  }

  // ---- consumer ------------------------------------------------------------------------------

  /** Number of published descriptors ready to read. */
  peek(): number {
    const tail = Atomics.load(this.i32, RingHeader.TAIL) >>> 0;
    const n = (tail - this.head) >>> 0;
    if (n > this.capacity) throw new NexusError('ERR_RING_CORRUPT', `ring reports ${n} ready > ${this.capacity}`);
    return n;
  }

  /** Cursor on ready descriptor `i` (0 <= i < peek()). Shared cursor: re-position per use. */
  reader(i: number): DescriptorCursor {
    return this.rcur.at((this.head + i) & this.mask);
  }

  /** Releases the first `n` ready descriptors; rings the producer if it parked on a full ring. */
  consume(n: number): boolean {
    if (n === 0) return false;
    this.head = (this.head + n) >>> 0;
    Atomics.store(this.i32, RingHeader.HEAD, this.head | 0);
    return this.producerBell.ring();
  }

  // ---- parking -------------------------------------------------------------------------------

  /** Consumer: sleep (blocking the thread) until something is published or timeout. */
  waitReadableSync(timeoutMs: number, spin?: number): boolean {
    return this.consumerBell.parkSync(() => this.peek() > 0, timeoutMs, spin);
  }

  /** Consumer: wait without blocking the event loop. */
  waitReadable(timeoutMs: number, spin?: number): Promise<boolean> {
    return this.consumerBell.park(() => this.peek() > 0, timeoutMs, spin);
  }

  /** Producer: sleep until at least one slot is free or timeout. */
  waitWritableSync(timeoutMs: number, spin?: number): boolean {
    return this.producerBell.parkSync(() => this.freeSlots() > 0, timeoutMs, spin);
  }

  /** Producer: wait for space without blocking the event loop. */
  waitWritable(timeoutMs: number, spin?: number): Promise<boolean> {
    return this.producerBell.park(() => this.freeSlots() > 0, timeoutMs, spin);
  }

  /** Raw header words, for tests and diagnostics. */
  indices(): { head: number; tail: number } {
    return {
      head: Atomics.load(this.i32, RingHeader.HEAD) >>> 0,
      tail: Atomics.load(this.i32, RingHeader.TAIL) >>> 0,
    };
  }
}
