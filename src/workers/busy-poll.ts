/**
 * Busy polling after a write: the thread's event loop keeps polling its sockets, without
 * sleeping, for a short window after each batch of responses goes out.
 *
 * Why: an initiator at low queue depth answers a response with its next command within tens of
 * microseconds. If the target thread has gone to sleep in epoll_wait by then, that command must
 * wake it, and waking an idle CPU (an inter-processor interrupt; on a virtual machine, a halt
 * exit as well) costs more than the command itself: at queue depth 1 it was most of the target's
 * CPU time and of the round trip. Staying awake for a window the size of the initiator's turn
 * finds the command already there. This is what Linux's net.core.busy_poll does for NAPI
 * devices (loopback and most virtual NICs have none) and what SPDK does all the time; here it
 * is bounded: the loop spins only while responses keep going out, never on an idle target, so
 * its cost is at most the window per response at low load and nothing at high load (the loop
 * is busy anyway).
 *
 * How: each turn is a setImmediate, so libuv polls with a zero timeout (a non-blocking
 * epoll_wait) and timers, sockets and rings keep being served between turns. The thread's ring
 * scheduler (scheduler.ts) shares the window: it opens it after delivering descriptors and, while
 * it is open, checks its rings every turn instead of parking, so a peer thread's descriptors need
 * no futex wake-up either.
 *
 * When not: on a core the thread shares (cpu-contention.ts), a spin takes the time the initiator
 * or another thread needs to produce the next command; the window then stays shut, and the
 * thread sleeps in epoll_wait like any other (DESIGN.md §10: idle threads sleep).
 */
import { CpuShare, threadContention } from './cpu-contention';

export class BusyPoll {
  private deadline = 0;
  private active = false;
  private turns = 0;
  private windows = 0;
  private windowMs = 0;

  /** `windowMicros` 0 turns busy polling off; `cpu` says when the thread's core is shared. */
  constructor(windowMicros = 0, private readonly cpu: CpuShare = threadContention()) {
    this.configure(windowMicros);
  }

  /** Sets the window (microseconds; 0 = off). */
  configure(windowMicros: number): void {
    this.windowMs = Math.max(0, Math.min(windowMicros, 10_000)) / 1000;
  }

  get windowMicros(): number {
    return this.windowMs * 1000;
  }

  /** Work was done (responses sent, descriptors delivered): keep the loop polling for the window. */
  touch(): void {
    if (this.windowMs === 0) return;
    const now = performance.now();
    this.cpu.tick(now);
    if (this.cpu.contended) return;
    this.deadline = now + this.windowMs;
    if (!this.active) {
      this.active = true;
      this.windows++;
      setImmediate(this.turn);
    }
  }

  private readonly turn = (): void => {
    this.turns++;
    if (performance.now() < this.deadline) setImmediate(this.turn);
    else this.active = false;
  };

  /** Whether the loop is polling now. */
  get polling(): boolean {
    return this.active;
  }

  /** Windows opened and loop turns spent polling, since start. */
  get stats(): { windows: number; turns: number } {
    return { windows: this.windows, turns: this.turns };
  }
}

/** The thread's poller (module state is per thread): its sockets and its rings share one loop. */
let perThread: BusyPoll | undefined;

export function threadBusyPoll(): BusyPoll {
  perThread ??= new BusyPoll();
  return perThread;
}

/** The thread's poller set to `windowMicros`; undefined when that is 0 (off). */
export function busyPollFor(windowMicros: number): BusyPoll | undefined {
  const p = threadBusyPoll();
  p.configure(windowMicros);
  return windowMicros > 0 ? p : undefined;
}
