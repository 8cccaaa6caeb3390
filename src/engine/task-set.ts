import { TaskAttr } from './spec/status';

/**
 * The task set of one logical unit (SAM-5 8.6, 8.7): task attributes decide when a task may enter
 * the enabled state.
 *  - HEAD OF QUEUE: enabled at once.
 *  - ORDERED: enabled when every older task has completed; it holds every younger task.
 *  - SIMPLE: enabled when every older ORDERED and HEAD OF QUEUE task has completed.
 * With only SIMPLE tasks present (the common case) nothing waits and nothing is scanned.
 *
 * Data-Out before the task set. The control mode page reports TST 000b: one task set shared by
 * every I_T nexus, so an ORDERED task orders the unit for every initiator (SAM-5 8.6.3). If a
 * write entered the task set when its command arrived and waited there for its Data-Out, an
 * initiator that never sends the data would hold that order for everyone, for as long as it
 * stays silent. SCST transfers a write's data before the command reaches its ordering and
 * execution stages (rdy_to_xfer precedes the SN check and exec), and Nexus does the same: a
 * command whose Data-Out is still in transfer waits at the arrival stage below, outside the
 * task set, and enters the task set once its data is in. Task order (SAM-5 8.6: the order in
 * which the device server receives the commands) is therefore the order in which commands become
 * complete with their data: receiving a command means receiving it with the data it carries.
 * SAM-5 leaves the order of commands of different I_T nexuses to their receipt; within one I_T
 * nexus the initiator's command order is kept wherever SAM-5 makes it matter:
 *  - an ORDERED command enters only after every older command of its I_T nexus has entered, and
 *    every younger command of that nexus (HEAD OF QUEUE excepted) enters only after it;
 *  - SIMPLE commands of one nexus may enter in any order among themselves (SAM-5 8.6.2: SIMPLE
 *    tasks are not ordered with respect to each other);
 *  - HEAD OF QUEUE enters as soon as its own data (if any) is in.
 * An ORDERED or HEAD OF QUEUE task therefore affects other initiators only from its entry to its
 * completion or abort, never while its initiator withholds data; the transport bounds that
 * silence with its Data-Out timeout.
 */

export enum TaskState {
  WAITING = 0, RUNNING = 1, DONE = 2,
  /** At the arrival stage, its Data-Out still in transfer: not in the task set yet. */
  DATA_TRANSFER = 3,
  /** At the arrival stage with its data in, held behind an older ORDERED command of its I_T nexus. */
  HELD = 4,
}

export interface Task {
  readonly nexusId: number;
  /** I_T nexus identity (UA and reservation key). */
  readonly itKey: string;
  readonly tag: number;
  readonly lun: number;
  readonly attr: TaskAttr;
  state: TaskState;
  aborted: boolean;
  /** Called once when the task is enabled. */
  readonly run: () => void;
  /** Called once when the task is aborted while still waiting (it never ran). */
  readonly onAbortWaiting: () => void;
  /** Waiters for the task's completion (task management quiesce). */
  settled?: Array<() => void>;
}

export class TaskSet {
  private readonly tasks: Task[] = [];
  /** ORDERED or HEAD OF QUEUE tasks not yet completed: when 0, SIMPLE tasks never wait. */
  private nonSimple = 0;
  /** The arrival stage: per I_T nexus, its commands not yet in the task set, in command order. */
  private readonly arriving = new Map<number, Task[]>();

  /** Tasks in the task set (the arrival stage excluded). */
  get size(): number { return this.tasks.length; }

  /** Commands at the arrival stage, their Data-Out in transfer or held behind an ORDERED one. */
  get arrivingCount(): number {
    let n = 0;
    for (const q of this.arriving.values()) n += q.length;
    return n;
  }

  /** Every task the device server holds: those in the task set, then those still arriving. */
  list(): readonly Task[] {
    if (this.arriving.size === 0) return this.tasks;
    const out = this.tasks.slice();
    for (const q of this.arriving.values()) out.push(...q);
    return out;
  }

  /**
   * A command received in command order. With no Data-Out to wait for and nothing of its nexus
   * at the arrival stage (the common case) it enters the task set at once; otherwise it waits at
   * the arrival stage (`dataPending`: until `dataIn`).
   */
  arrive(t: Task, dataPending: boolean): void {
    const q = this.arriving.get(t.nexusId);
    if (!dataPending && q === undefined) { this.enqueue(t); return; }
    t.state = dataPending ? TaskState.DATA_TRANSFER : TaskState.HELD;
    if (q === undefined) this.arriving.set(t.nexusId, [t]);
    else q.push(t);
    if (!dataPending) this.release(t.nexusId);
  }

  /** The Data-Out of a command at the arrival stage is all in: it enters when its nexus's order allows. */
  dataIn(t: Task): void {
    if (t.state !== TaskState.DATA_TRANSFER) return;
    t.state = TaskState.HELD;
    this.release(t.nexusId);
  }

  /**
   * Commands of `nexusId` that may now leave the arrival stage enter the task set, in command
   * order, one at a time: a command that runs and completes at once may make its transport hand
   * over the next command of the nexus, which then sees those still waiting here.
   */
  private release(nexusId: number): void {
    for (;;) {
      const q = this.arriving.get(nexusId);
      if (q === undefined) return;
      const i = releasable(q);
      if (i < 0) return;
      const t = q[i];
      q.splice(i, 1);
      if (q.length === 0) this.arriving.delete(nexusId);
      t.state = TaskState.WAITING;
      this.enqueue(t);
    }
  }

  /** A command leaves the arrival stage without entering the task set (its transfer failed, or aborted). */
  private leaveArrival(t: Task): boolean {
    const q = this.arriving.get(t.nexusId);
    const i = q === undefined ? -1 : q.indexOf(t);
    if (i < 0) return false;
    q!.splice(i, 1);
    if (q!.length === 0) this.arriving.delete(t.nexusId);
    t.state = TaskState.DONE;
    if (t.settled) for (const w of t.settled.splice(0)) w();
    this.release(t.nexusId);
    return true;
  }

  private enqueue(t: Task): void {
    const attr = normalize(t.attr);
    if (attr !== TaskAttr.SIMPLE) this.nonSimple++;
    if (attr === TaskAttr.HEAD_OF_QUEUE) {
      this.tasks.unshift(t);
      this.start(t);
      return;
    }
    this.tasks.push(t);
    if (attr === TaskAttr.SIMPLE ? this.nonSimple === 0 : this.tasks.length === 1) this.start(t);
    else this.schedule();
  }

  /** The task finished executing (or was aborted and has now quiesced). */
  complete(t: Task): void {
    if (t.state === TaskState.DATA_TRANSFER || t.state === TaskState.HELD) { this.leaveArrival(t); return; }
    const tasks = this.tasks;
    const i = tasks.indexOf(t);
    if (i < 0) return;
    // Removed in place: splice would allocate the array of removed tasks on every command.
    for (let j = i + 1; j < tasks.length; j++) tasks[j - 1] = tasks[j];
    tasks.pop();
    t.state = TaskState.DONE;
    if (normalize(t.attr) !== TaskAttr.SIMPLE) this.nonSimple--;
    if (t.settled) for (const w of t.settled.splice(0)) w();
    if (this.nonSimple > 0 || this.hasWaiting()) this.schedule();
  }

  /**
   * Abort every task matching `pred` (SAM-5 7.x "safe" semantics as SCST: the function completes
   * only after the affected tasks have quiesced). Waiting tasks are removed at once; running ones
   * are marked and awaited. Returns the aborted tasks and a promise for their quiescence.
   */
  abort(pred: (t: Task) => boolean): { tasks: Task[]; quiesced: Promise<void> } {
    const hit = this.list().filter(pred);
    const running: Promise<void>[] = [];
    for (const t of hit) {
      t.aborted = true;
      if (t.state === TaskState.DATA_TRANSFER || t.state === TaskState.HELD) {
        // Never entered the task set: it ends now; its transport's later data is discarded.
        this.leaveArrival(t);
        t.onAbortWaiting();
      } else if (t.state === TaskState.WAITING) {
        this.complete(t);
        t.onAbortWaiting();
      } else if (t.state === TaskState.RUNNING) {
        running.push(new Promise<void>(res => (t.settled ??= []).push(res)));
      }
    }
    return { tasks: hit, quiesced: Promise.all(running).then(() => undefined) };
  }

  find(nexusId: number, tag: number): Task | undefined {
    return this.tasks.find(t => t.nexusId === nexusId && t.tag === tag)
      ?? this.arriving.get(nexusId)?.find(t => t.tag === tag);
  }

  private hasWaiting(): boolean {
    for (const t of this.tasks) if (t.state === TaskState.WAITING) return true;
    return false;
  }

  private schedule(): void {
    let olderIncomplete = false;
    let olderBlocking = false; // an older ORDERED or HEAD OF QUEUE task is incomplete
    // Enabling a task may complete it synchronously and mutate the array: walk a snapshot.
    for (const t of this.tasks.slice()) {
      if (t.state === TaskState.DONE) continue;
      const attr = normalize(t.attr);
      if (t.state === TaskState.WAITING) {
        const may = attr === TaskAttr.HEAD_OF_QUEUE
          || (attr === TaskAttr.ORDERED && !olderIncomplete)
          || (attr === TaskAttr.SIMPLE && !olderBlocking);
        if (may) this.start(t);
      }
      if ((t.state as TaskState) !== TaskState.DONE) {
        olderIncomplete = true;
        if (attr !== TaskAttr.SIMPLE) olderBlocking = true;
      }
    }
  }

  private start(t: Task): void {
    t.state = TaskState.RUNNING;
    t.run();
  }
}

/**
 * The first command of one nexus's arrival queue that may enter the task set, or -1: its data is
 * in, and it is HEAD OF QUEUE, or ORDERED with nothing older waiting, or SIMPLE with no older
 * ORDERED command waiting.
 */
function releasable(q: readonly Task[]): number {
  let olderOrdered = false;
  for (let i = 0; i < q.length; i++) {
    const t = q[i];
    const attr = normalize(t.attr);
    if (t.state === TaskState.HELD
      && (attr === TaskAttr.HEAD_OF_QUEUE || (attr === TaskAttr.ORDERED ? i === 0 : !olderOrdered))) return i;
    if (attr === TaskAttr.ORDERED) olderOrdered = true;
  }
  return -1;
}

/** UNTAGGED and ACA (without an ACA condition, which Nexus never establishes) behave as SIMPLE. */
function normalize(a: TaskAttr): TaskAttr {
  return a === TaskAttr.ORDERED || a === TaskAttr.HEAD_OF_QUEUE ? a : TaskAttr.SIMPLE;
}
