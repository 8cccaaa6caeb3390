/**
 * Whether the calling thread has a CPU to itself, measured: the share of its runnable time that
 * it spent waiting on a run queue instead of running (Linux schedstat, per thread).
 *
 * Why: two of a thread's latency tactics pay only while the thread has a core of its own
 * (DESIGN.md §10: "idle threads sleep (a spinning thread steals the core the initiator or the
 * other worker needs)"):
 * - busy polling (busy-poll.ts) keeps the thread runnable between commands; on a contended core
 *   the spin takes the time the initiator needs to send the next command;
 * - writing each response as soon as it is queued (the iSCSI coalescer) lets the initiator work
 *   on it while the thread goes on; on a shared core every such write wakes the initiator onto
 *   the thread's core, which preempts the thread mid-batch (on a loaded 2-core host, iscsi-perf
 *   QD8 on the null LUN: 0.6-0.9 involuntary context switches per command, 60 % of the thread's
 *   runnable time spent waiting).
 * That is the daemon's default shape, engine threads not pinned and sharing the host's cores with
 * the initiators and everything else; a pinned engine thread on an otherwise idle core waits on no
 * run queue and keeps both tactics.
 *
 * How: `/proc/thread-self/schedstat` (Documentation/scheduler/sched-stats.rst: time on the CPU,
 * time waiting on a run queue, in ns) is read at most every SAMPLE_MS, and only from turns of
 * the event loop that did work: an idle thread reads nothing. The gauge enters the contended
 * state when an interval's wait share reaches ENTER_SHARE and leaves it when one falls to
 * LEAVE_SHARE, but not before HOLD_MS: batching itself lowers the wait share, and without the
 * hold the two modes would alternate every interval. Without schedstat (another kernel
 * configuration) a thread counts as uncontended, as before this measurement existed.
 */
import { readFileSync } from 'node:fs';

/** Minimum time between two readings of the thread's schedstat. */
export const SAMPLE_MS = 100;
/** Share of runnable time spent waiting at or above which the thread counts as contended. */
export const ENTER_SHARE = 0.2;
/** Share at or below which a contended thread counts as having its core again. */
export const LEAVE_SHARE = 0.05;
/** A contended state lasts at least this long. */
export const HOLD_MS = 1000;
/** An interval with less runnable time than this (ns) says nothing either way. */
export const MIN_RUNNABLE_NS = 5_000_000;

/** Cumulative nanoseconds a thread ran and waited to run. */
export interface SchedTimes {
  readonly runNs: number;
  readonly waitNs: number;
}

/** The contended / uncontended decision over successive cumulative readings (pure). */
export class ContentionGauge {
  contended = false;
  /** Times the state changed, since start. */
  changes = 0;
  private runNs = -1;
  private waitNs = 0;
  private enteredAt = 0;

  /** A reading at `nowMs`: the state follows the interval since the previous reading. */
  update(nowMs: number, t: SchedTimes): void {
    const first = this.runNs < 0;
    const run = t.runNs - this.runNs;
    const wait = t.waitNs - this.waitNs;
    this.runNs = t.runNs;
    this.waitNs = t.waitNs;
    if (first || run < 0 || wait < 0 || run + wait < MIN_RUNNABLE_NS) return;
    const share = wait / (run + wait);
    if (!this.contended && share >= ENTER_SHARE) {
      this.contended = true;
      this.enteredAt = nowMs;
      this.changes++;
    } else if (this.contended && share <= LEAVE_SHARE && nowMs - this.enteredAt >= HOLD_MS) {
      this.contended = false;
      this.changes++;
    }
  }
}

/** Reads the calling thread's schedstat; undefined where the kernel has none. */
export function readThreadSchedstat(): SchedTimes | undefined {
  try {
    const f = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ');
    const runNs = Number(f[0]);
    const waitNs = Number(f[1]);
    return Number.isFinite(runNs) && Number.isFinite(waitNs) ? { runNs, waitNs } : undefined;
  } catch {
    return undefined;
  }
}

/** What the thread's latency tactics ask of the gauge. */
export interface CpuShare {
  /** The thread did work at `nowMs` (performance.now()). */
  tick(nowMs: number): void;
  readonly contended: boolean;
}

/** One thread's gauge, fed from its busy turns. */
export class ThreadContention implements CpuShare {
  readonly gauge = new ContentionGauge();
  private next = 0;
  private available = true;

  constructor(private readonly read: () => SchedTimes | undefined = readThreadSchedstat) {}

  /** Reads schedstat when SAMPLE_MS passed since the last reading. */
  tick(nowMs: number): void {
    if (nowMs < this.next || !this.available) return;
    this.next = nowMs + SAMPLE_MS;
    const t = this.read();
    if (t === undefined) this.available = false;
    else this.gauge.update(nowMs, t);
  }

  /** Whether the thread's core is shared enough that busy polling and eager writes cost more than they save. */
  get contended(): boolean {
    return this.gauge.contended;
  }
}

/** The calling thread's gauge (module state is per thread). */
let perThread: ThreadContention | undefined;

export function threadContention(): ThreadContention {
  perThread ??= new ThreadContention();
  return perThread;
}
