// The transaction executor of config.apply (issue 10): the diff's steps (topology-diff.ts) applied
// one at a time, each one's undo recorded once it succeeded. When a step fails, every step already
// done is undone in reverse order and the daemon is as before. An undo that fails too leaves the
// daemon in a state the running topology no longer describes: it is logged at error level, named
// in the result, and the remaining undos still run (each independent of it as far as possible).
//
// What the running topology says (config.get) is the caller's to change, and only on commit.

import type { Logger } from '../log';
import { describeStep, inverseOf, type Step } from './topology-diff';

/** Carries out one step on the running daemon; rejects when it could not (nothing of it done). */
export type StepRunner = (step: Step) => Promise<void>;

export interface StepFailure {
  /** Index of the step in the transaction's list. */
  readonly index: number;
  readonly step: string;
  readonly error: string;
  /** Stable code of the error when it had one (NexusError, errno). */
  readonly code?: string;
}

export type TransactionResult =
  | { readonly ok: true; readonly applied: number }
  | {
    readonly ok: false;
    /** The step that failed. */
    readonly failed: StepFailure;
    /** How many steps were undone. */
    readonly undone: number;
    /** Undos that failed: the daemon differs from the running topology in these. */
    readonly undoFailures: readonly StepFailure[];
  };

function failureOf(index: number, step: Step, e: unknown): StepFailure {
  const err = e as { message?: unknown; code?: unknown };
  const error = typeof err?.message === 'string' ? err.message : String(e);
  return typeof err?.code === 'string' ? { index, step: describeStep(step), error, code: err.code } : { index, step: describeStep(step), error };
}

/** Applies `steps` in order with `run`; all of them, or (as far as the undos succeed) none. */
export async function runTransaction(steps: readonly Step[], run: StepRunner, log: Logger): Promise<TransactionResult> {
  const done: { index: number; undo: Step }[] = [];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    try {
      await run(step);
    } catch (e) {
      const failed = failureOf(i, step, e);
      log.warn({ step: failed.step, error: failed.error }, 'configuration step failed; undoing the steps before it');
      const undoFailures: StepFailure[] = [];
      let undone = 0;
      for (const d of done.reverse()) {
        try {
          await run(d.undo);
          undone++;
        } catch (ue) {
          const f = failureOf(d.index, d.undo, ue);
          undoFailures.push(f);
          log.error({ step: f.step, error: f.error }, 'UNDO FAILED: the daemon no longer matches the running topology for this step');
        }
      }
      return { ok: false, failed, undone, undoFailures };
    }
    done.push({ index: i, undo: inverseOf(step) });
  }
  return { ok: true, applied: steps.length };
}
