// A mesh member as an actor scheduler (DESIGN §3): one per engine thread, and the same one on
// the calling thread in embedded mode and with `engine.threads: 0` (engine-thread.ts).
//
// A thread hosts many actors (LUN actors, the ThreadEngine's completion sink); an actor is an object with an id and a `receive`, never a thread.
// Descriptors addressed to an actor arrive on the thread's inbound rings (one SPSC ring from
// every other engine thread, see RingMesh) or on its local ring (same-thread sends). The
// scheduler drains each ring in batches, hands every descriptor to its actor in place, and
// publishes everything the actors sent with one doorbell per destination ring per pass.
// When nothing is ready it parks on its doorbell with Atomics.waitAsync, so the thread's event
// loop keeps serving its sockets; between busy passes it yields with setImmediate.

import { NexusError } from '../engine/result';
import { DescriptorCursor } from './ring/descriptor';
import { DEFAULT_SPIN, Doorbell, DoorbellHandle } from './ring/doorbell';
import { RingHandle, SpscRing } from './ring/spsc-ring';
import { BusyPoll, threadBusyPoll } from './busy-poll';

/** An actor: an id and a mailbox. The descriptor is only valid during the call. */
export interface Actor {
  readonly id: number;
  receive(msg: DescriptorCursor): void;
  /** Called once after the actor is registered (it may send from here). */
  start?(): void;
  /** Called when the actor is removed from its thread. */
  stop?(): void;
}

/** The rings and doorbell one engine thread needs (structured-clone safe, goes in workerData). */
export interface ThreadRings {
  readonly threadIndex: number;
  readonly threads: number;
  /** Indexed by source thread; null at threadIndex. */
  readonly inbound: readonly (RingHandle | null)[];
  /** Indexed by destination thread; null at threadIndex. */
  readonly outbound: readonly (RingHandle | null)[];
  /** The thread's single doorbell: every inbound ring rings it. */
  readonly doorbell: DoorbellHandle;
}

const DOORBELL_STRIDE_WORDS = 16; // one cache line per thread's doorbell

/** One SPSC ring per ordered pair of N engine threads, plus one doorbell per thread. */
export class RingMesh {
  private constructor(
    readonly threads: number,
    readonly capacity: number,
    private readonly bells: SharedArrayBuffer,
    private readonly rings: (RingHandle | null)[][], // [from][to]
  ) {}

  static create(threads: number, capacity: number): RingMesh {
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new NexusError('ERR_TOPOLOGY', `engine thread count ${threads} out of 1..256`);
    }
    const bells = new SharedArrayBuffer(threads * DOORBELL_STRIDE_WORDS * 4);
    const rings: (RingHandle | null)[][] = [];
    for (let from = 0; from < threads; from++) {
      const row: (RingHandle | null)[] = [];
      for (let to = 0; to < threads; to++) {
        row.push(from === to ? null : SpscRing.create(capacity, { consumerBell: RingMesh.bell(bells, to) }).handle());
      }
      rings.push(row);
    }
    return new RingMesh(threads, capacity, bells, rings);
  }

  private static bell(buffer: SharedArrayBuffer, thread: number): DoorbellHandle {
    const base = thread * DOORBELL_STRIDE_WORDS;
    return { buffer, seqIndex: base, parkedIndex: base + 1 };
  }

  /** The handles thread `i` attaches to. */
  forThread(i: number): ThreadRings {
    return {
      threadIndex: i,
      threads: this.threads,
      inbound: this.rings.map((row) => row[i]),
      outbound: this.rings[i].slice(),
      doorbell: RingMesh.bell(this.bells, i),
    };
  }
}

export interface SchedulerOptions {
  /** Most descriptors taken from one ring per pass (default 256). */
  readonly batch?: number;
  /** Slots of the same-thread ring (default 1024). */
  readonly localCapacity?: number;
  /** Longest park before re-checking (ms, default 1000). */
  readonly idleTimeoutMs?: number;
  readonly spin?: number;
  /**
   * Busy-poll window in microseconds (busy-poll.ts), shared with the thread's sockets: after a
   * pass that delivered something the rings are checked every loop turn for this long instead of
   * parking on the doorbell. 0 or absent: park as soon as the rings are empty.
   */
  readonly pollMicros?: number;
  /** The poller that window opens (default the thread's, threadBusyPoll()). */
  readonly busyPoll?: BusyPoll;
}

export interface SchedulerCounters {
  delivered: number;
  undeliverable: number;
  passes: number;
  wakeups: number;
  /** Sends refused: the destination ring was full (`ringFull`) or had no route. */
  sendsRefused: number;
  /** Sends refused because the ring to the destination thread was full (backpressure events). */
  ringFull: number;
}

export class Scheduler {
  readonly threadIndex: number;
  private readonly actors = new Map<number, Actor>();
  private readonly routes = new Map<number, number>();
  private readonly inbound: SpscRing[] = [];
  /** Outbound rings by destination thread; index threadIndex is the local ring. */
  private readonly outbound: SpscRing[] = [];
  private readonly local: SpscRing;
  private readonly bell: Doorbell;
  private readonly batch: number;
  private readonly idleTimeoutMs: number;
  private readonly spin: number;
  private readonly awake: BusyPoll | undefined;
  private draining = false;
  private flushQueued = false;
  private running = false;
  readonly counters: SchedulerCounters = { delivered: 0, undeliverable: 0, passes: 0, wakeups: 0, sendsRefused: 0, ringFull: 0 };
  /** Called for a descriptor whose destination is not hosted here (default: counted only). */
  onUndeliverable: ((d: DescriptorCursor) => void) | null = null;

  constructor(rings: ThreadRings, opts: SchedulerOptions = {}) {
    this.threadIndex = rings.threadIndex;
    this.batch = opts.batch ?? 256;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 1000;
    this.spin = opts.spin ?? DEFAULT_SPIN;
    if ((opts.pollMicros ?? 0) > 0) {
      this.awake = opts.busyPoll ?? threadBusyPoll();
      // The larger of the sockets' and the rings' windows wins (one loop, one window).
      if (this.awake.windowMicros < (opts.pollMicros as number)) this.awake.configure(opts.pollMicros as number);
    }
    this.bell = Doorbell.attach(rings.doorbell);
    this.local = SpscRing.create(opts.localCapacity ?? 1024, { consumerBell: rings.doorbell });
    for (let t = 0; t < rings.threads; t++) {
      const inb = rings.inbound[t];
      const out = rings.outbound[t];
      if (t === rings.threadIndex) {
        this.outbound.push(this.local);
      } else {
        if (inb === null || out === null) throw new NexusError('ERR_RING_MISUSE', `missing ring between threads ${t} and ${rings.threadIndex}`);
        this.inbound.push(SpscRing.attach(inb));
        this.outbound.push(SpscRing.attach(out));
      }
    }
    this.inbound.push(this.local);
  }

  // ---- actors and routes -----------------------------------------------------------------------

  register(actor: Actor): void {
    this.actors.set(actor.id, actor);
    this.routes.set(actor.id, this.threadIndex);
    actor.start?.();
  }

  unregister(id: number): Actor | undefined {
    const a = this.actors.get(id);
    if (a === undefined) return undefined;
    this.actors.delete(id);
    this.routes.delete(id);
    a.stop?.();
    return a;
  }

  actor(id: number): Actor | undefined {
    return this.actors.get(id);
  }

  actorIds(): number[] {
    return [...this.actors.keys()];
  }

  /** Directory update from the supervisor; threadIndex < 0 forgets the actor. */
  setRoute(actorId: number, threadIndex: number): void {
    if (threadIndex < 0) this.routes.delete(actorId);
    else this.routes.set(actorId, threadIndex);
  }

  /** Whether descriptors for `actorId` have somewhere to go. */
  hasRoute(actorId: number): boolean {
    return this.routes.has(actorId);
  }

  // ---- sending -----------------------------------------------------------------------------

  /**
   * Claims a descriptor slot towards `dest` and returns it with destActor set; the caller fills
   * it before returning to the scheduler. null = the ring is full or `dest` has no route: that is
   * backpressure, retry later. Claimed slots are published at the end of the current pass (one
   * doorbell per ring), or in a microtask when sent from outside a pass (e.g. a socket callback).
   */
  send(dest: number): DescriptorCursor | null {
    const t = this.routes.get(dest);
    if (t === undefined) {
      this.counters.sendsRefused++;
      return null;
    }
    const ring = this.outbound[t];
    const j = ring.reserved;
    if (ring.reserve(1) !== 1) {
      this.counters.sendsRefused++;
      this.counters.ringFull++;
      return null;
    }
    if (!this.draining && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushFromMicrotask);
    }
    const d = ring.writer(j);
    d.destActor = dest;
    return d;
  }

  /**
   * Resolves true once the ring towards `dest` has a free slot (false on timeout or no route):
   * how a sender that got null from send() waits without spinning.
   */
  waitWritable(dest: number, timeoutMs: number): Promise<boolean> {
    const t = this.routes.get(dest);
    if (t === undefined) return Promise.resolve(false);
    return this.outbound[t].waitWritable(timeoutMs, 0);
  }

  /**
   * Descriptors in this thread's rings now: `inbound`, published to it and not yet drained;
   * `outbound`, sent by it and not yet taken by the other threads (the local ring counts as both
   * ends are here: inbound only).
   */
  ringDepth(): { inbound: number; outbound: number } {
    let inbound = 0;
    for (const r of this.inbound) inbound += r.peek();
    let outbound = 0;
    for (const r of this.outbound) if (r !== this.local) outbound += r.capacity - r.freeSlots();
    return { inbound, outbound };
  }

  /** Publishes every claimed slot; one wake-up per ring whose consumer is parked. */
  flush(): void {
    for (let t = 0; t < this.outbound.length; t++) {
      const r = this.outbound[t];
      if (r.reserved > 0) r.publish();
    }
  }

  private readonly flushFromMicrotask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  // ---- draining ----------------------------------------------------------------------------

  /** True when any inbound ring has descriptors ready. */
  hasWork(): boolean {
    for (let i = 0; i < this.inbound.length; i++) if (this.inbound[i].peek() > 0) return true;
    return false;
  }

  /** One pass: up to `batch` descriptors from every inbound ring, then flush. Returns count. */
  drain(): number {
    this.draining = true;
    let total = 0;
    try {
      for (let r = 0; r < this.inbound.length; r++) {
        const ring = this.inbound[r];
        const n = Math.min(ring.peek(), this.batch);
        if (n === 0) continue;
        for (let i = 0; i < n; i++) {
          const d = ring.reader(i);
          const a = this.actors.get(d.destActor);
          if (a !== undefined) {
            a.receive(d);
            this.counters.delivered++;
          } else {
            this.counters.undeliverable++;
            this.onUndeliverable?.(d);
          }
        }
        ring.consume(n);
        total += n;
      }
    } finally {
      this.draining = false;
      this.flush();
    }
    this.counters.passes++;
    return total;
  }

  /**
   * Drops, unread, every descriptor published on the ring from thread `t` (it died: nothing it
   * sent may be acted on, and the pool buffers those descriptors carry are still tagged with it,
   * so the supervisor's reclaim frees them). Returns how many were dropped.
   */
  discardFrom(t: number): number {
    if (!Number.isInteger(t) || t < 0 || t === this.threadIndex || t >= this.inbound.length) return 0;
    const ring = this.inbound[t < this.threadIndex ? t : t - 1];
    const n = ring.peek();
    ring.consume(n);
    return n;
  }

  // ---- run loop ----------------------------------------------------------------------------

  /** Starts draining on wake-ups without blocking the event loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    setImmediate(this.tick);
  }

  /** Stops the run loop (wakes it if parked). */
  stop(): void {
    this.running = false;
    this.bell.alert();
  }

  get isRunning(): boolean {
    return this.running;
  }

  private readonly tick = (): void => {
    if (!this.running) return;
    if (this.drain() > 0) {
      this.awake?.touch();
      setImmediate(this.tick); // let sockets and timers run between busy passes
      return;
    }
    for (let i = 0; i < this.spin; i++) {
      if (this.hasWork()) {
        setImmediate(this.tick);
        return;
      }
    }
    if (this.awake?.polling) {
      // The loop is busy-polling anyway: look at the rings again next turn, no doorbell.
      setImmediate(this.tick);
      return;
    }
    const ticket = this.bell.arm();
    if (this.hasWork()) {
      this.bell.disarm();
      setImmediate(this.tick);
      return;
    }
    this.bell.waitAsync(ticket, this.idleTimeoutMs, this.onWake);
  };

  private readonly onWake = (): void => {
    this.bell.disarm();
    this.counters.wakeups++;
    this.tick();
  };
}
