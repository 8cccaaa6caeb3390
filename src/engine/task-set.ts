import { TaskAttr } from './spec/status';

/**
 * The task set of one logical unit (SAM-5 8.6, 8.7): task attributes decide when a task may enter
 * the enabled state.
 *  - HEAD OF QUEUE: enabled at once.
 *  - ORDERED: enabled when every older task has completed; it holds every younger task.
 *  - SIMPLE: enabled when every older ORDERED and HEAD OF QUEUE task has completed.
 * With only SIMPLE tasks present (the common case) nothing waits and nothing is scanned.
 */

export enum TaskState { WAITING = 0, RUNNING = 1, DONE = 2 }

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

  get size(): number { return this.tasks.length; }

  list(): readonly Task[] { return this.tasks; }

  enqueue(t: Task): void {
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
    const hit = this.tasks.filter(pred);
    const running: Promise<void>[] = [];
    for (const t of hit) {
      t.aborted = true;
      if (t.state === TaskState.WAITING) {
        this.complete(t);
        t.onAbortWaiting();
      } else if (t.state === TaskState.RUNNING) {
        running.push(new Promise<void>(res => (t.settled ??= []).push(res)));
      }
    }
    return { tasks: hit, quiesced: Promise.all(running).then(() => undefined) };
  }

  find(nexusId: number, tag: number): Task | undefined {
    return this.tasks.find(t => t.nexusId === nexusId && t.tag === tag);
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

/** UNTAGGED and ACA (without an ACA condition, which Nexus never establishes) behave as SIMPLE. */
function normalize(a: TaskAttr): TaskAttr {
  return a === TaskAttr.ORDERED || a === TaskAttr.HEAD_OF_QUEUE ? a : TaskAttr.SIMPLE;
}
