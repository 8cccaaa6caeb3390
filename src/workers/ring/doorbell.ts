// A doorbell: two Int32 words in shared memory that let one side sleep until another rings.
//
//   PARKED  1 while the sleeper is (about to be) asleep, 0 otherwise; written by the sleeper only
//   SEQ     bumped by a ringer that saw PARKED = 1; the sleeper waits on it
//
// Protocol (the Dekker pattern over sequentially consistent Atomics, so no wake-up is lost):
//
//   sleeper                                   ringer (any number of threads)
//   ticket = arm()    // PARKED = 1, read SEQ    publish work (Atomics.store)
//   if (work visible) disarm() and go          if (PARKED) { SEQ += 1; notify(SEQ) }
//   wait(ticket)      // sleeps only while SEQ == ticket
//   disarm()          // PARKED = 0
//
// If the ringer read PARKED = 0, its publish precedes the sleeper's `arm` in the single total
// order of SC atomics, so the sleeper's re-check sees the work. If it read 1, it bumps SEQ, and
// the sleeper's wait either sees SEQ != ticket or is notified. A ringer that finds nobody parked
// does one atomic load and nothing else: that is the "wake only when parked" rule of DESIGN §10.

/** Serializable description of a doorbell, passed to other threads in workerData. */
export interface DoorbellHandle {
  readonly buffer: SharedArrayBuffer;
  readonly seqIndex: number;
  readonly parkedIndex: number;
}

export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

interface WaitAsyncResult {
  async: boolean;
  value: WaitOutcome | Promise<WaitOutcome>;
}
type WaitAsyncFn = (ta: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;

// Node 20 has Atomics.waitAsync; lib ES2022 does not declare it.
const waitAsyncFn: WaitAsyncFn | undefined = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

/** Spin iterations before parking; kept tiny because a spinning thread steals a core (DESIGN §10). */
export const DEFAULT_SPIN = 64;

export class Doorbell {
  private readonly i32: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly seqIndex: number,
    readonly parkedIndex: number,
  ) {
    this.i32 = new Int32Array(buffer);
  }

  static attach(h: DoorbellHandle): Doorbell {
    return new Doorbell(h.buffer, h.seqIndex, h.parkedIndex);
  }

  /** A doorbell on its own fresh 64-byte buffer. */
  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(64), 0, 1);
  }

  handle(): DoorbellHandle {
    return { buffer: this.buffer, seqIndex: this.seqIndex, parkedIndex: this.parkedIndex };
  }

  /** True while the sleeper has armed the bell. */
  get parked(): boolean {
    return Atomics.load(this.i32, this.parkedIndex) !== 0;
  }

  /** Ringer side: wakes the sleeper only if it is parked. Returns true when a notify was issued. */
  ring(): boolean {
    if (Atomics.load(this.i32, this.parkedIndex) === 0) return false;
    Atomics.add(this.i32, this.seqIndex, 1);
    Atomics.notify(this.i32, this.seqIndex, 1);
    return true;
  }

  /** Wakes the sleeper whether or not it is parked (shutdown, not the data path). */
  alert(): void {
    Atomics.add(this.i32, this.seqIndex, 1);
    Atomics.notify(this.i32, this.seqIndex);
  }

  /** Sleeper side: announce the intent to sleep; returns the ticket to wait on. Re-check work after. */
  arm(): number {
    Atomics.store(this.i32, this.parkedIndex, 1);
    return Atomics.load(this.i32, this.seqIndex);
  }

  /** Sleeper side: no longer asleep. */
  disarm(): void {
    Atomics.store(this.i32, this.parkedIndex, 0);
  }

  /** Blocks the thread until rung or `timeoutMs` passes. For pure compute consumers only. */
  waitSync(ticket: number, timeoutMs = Infinity): WaitOutcome {
    return Atomics.wait(this.i32, this.seqIndex, ticket, timeoutMs);
  }

  /**
   * Waits without blocking the event loop (Atomics.waitAsync), so a thread that also owns
   * sockets keeps serving them. `done` runs once, with the outcome; nothing is allocated when the
   * bell was already rung.
   */
  waitAsync(ticket: number, timeoutMs: number, done: (outcome: WaitOutcome) => void): void {
    if (waitAsyncFn === undefined) {
      // Not reached on Node >= 16; a timer poll keeps the contract on runtimes without it.
      const t = setTimeout(() => done(Atomics.load(this.i32, this.seqIndex) === ticket ? 'timed-out' : 'ok'),
        Math.min(timeoutMs, 1));
      t.unref?.();
      return;
    }
    const r = waitAsyncFn(this.i32, this.seqIndex, ticket, timeoutMs);
    if (!r.async) {
      done(r.value as WaitOutcome);
      return;
    }
    (r.value as Promise<WaitOutcome>).then(done);
  }

  /**
   * Sleeps synchronously until `hasWork()` is true or `timeoutMs` passes, after a bounded spin.
   * Returns true if work is visible.
   */
  parkSync(hasWork: () => boolean, timeoutMs: number, spin = DEFAULT_SPIN): boolean {
    for (let i = 0; i < spin; i++) if (hasWork()) return true;
    const ticket = this.arm();
    if (hasWork()) {
      this.disarm();
      return true;
    }
    this.waitSync(ticket, timeoutMs);
    this.disarm();
    return hasWork();
  }

  /** Async counterpart of parkSync: resolves with whether work is visible. */
  park(hasWork: () => boolean, timeoutMs: number, spin = DEFAULT_SPIN): Promise<boolean> {
    for (let i = 0; i < spin; i++) if (hasWork()) return Promise.resolve(true);
    const ticket = this.arm();
    if (hasWork()) {
      this.disarm();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.waitAsync(ticket, timeoutMs, () => {
        this.disarm();
        resolve(hasWork());
      });
    });
  }
}
