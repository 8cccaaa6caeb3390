// config.apply (issue 10): the one mechanism every configuration change goes through, whether it
// comes as a whole topology (config.apply, SIGHUP) or as one object's change (device.add,
// lun.map, ...: a copy of the running topology with that change, applied the same way).
//
//   1. the new document is validated in full by the start-up loader (same JSON paths, same
//      messages), with the daemon's own options (relative paths, --state-dir, --listen);
//   2. diffed against the running topology (topology-diff.ts): what cannot change live is refused;
//   3. every step is checked against what the running daemon can do (LiveApplier.refuses), so a
//      change that would fail for that reason fails before anything is touched;
//   4. applied as a transaction (transaction.ts). The running topology, what config.get returns
//      and config.save writes, changes only when every step succeeded.
//
// Changes are serialized: one transaction at a time, in the order they arrived.

import type { Topology } from '../../engine/topology';
import type { ConfigError, TopologyResult } from '../config/load';
import { logSecrets, topologySecrets, type Logger } from '../log';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { ControlErrorCode, errorData, type ControlProblem } from './protocol';
import { controlError } from './methods';
import { describeStep, diffTopology, type Step } from './topology-diff';
import { applyStepToTopology } from './topology-steps';
import { runTransaction, type StepRunner } from './transaction';

/** What the running daemon can carry out. */
export interface LiveApplier {
  /** Called with the whole new topology before its steps run (placement of new devices). */
  begin?(next: Topology): void;
  /** Why `step` cannot be carried out on this daemon (undefined: it can). */
  refuses(step: Step): string | undefined;
  readonly run: StepRunner;
}

/** A step as config.apply returns it: what, and in words. */
export interface StepView {
  readonly op: Step['op'];
  readonly description: string;
}

export interface ApplyResult {
  readonly steps: readonly StepView[];
  /** false for a dry run (and for a change with no steps). */
  readonly applied: boolean;
}

export interface ApplyOptions {
  readonly dryRun?: boolean;
  /** Who asked (logged with the change): "control socket", "SIGHUP". */
  readonly who: string;
  /** The control socket peer's ids (SO_PEERCRED), logged with `who`. */
  readonly uid?: number;
  readonly gid?: number;
  readonly pid?: number;
  /** Where in the request the document is, for error paths ("/params/topology"). */
  readonly at: string;
  /** Told as each step is done (the control socket's `progress` notifications). */
  readonly progress?: (p: StepProgress) => void;
}

/** A change under way: `done` of `steps` steps are done, the last one `description`. */
export interface StepProgress {
  readonly done: number;
  readonly steps: number;
  readonly description: string;
}

export class ConfigTransactions {
  private current: Topology;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    running: Topology,
    /** The start-up loader with the daemon's options. */
    private readonly normalize: (doc: unknown) => TopologyResult,
    private readonly live: LiveApplier,
    private readonly log: Logger,
  ) {
    this.current = running;
  }

  /** The running topology (changes only when a transaction commits). */
  get running(): Topology { return this.current; }

  /** Validates, diffs and (unless a dry run) applies the topology document `doc`. */
  apply(doc: unknown, o: ApplyOptions): Promise<ApplyResult> {
    return this.applyLoaded(() => this.normalize(doc), o);
  }

  /** As apply, with the loading done by `load` when the change's turn comes (SIGHUP: the file). */
  applyLoaded(load: () => TopologyResult, o: ApplyOptions): Promise<ApplyResult> {
    const next = this.queue.then(() => this.applyNow(load(), o));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * `edit` on a copy of the running topology's document (config.get's form, secrets included),
   * then applied as config.apply: the per-object methods. `edit` throws a control error when the
   * object it names does not exist.
   */
  edit(document: (t: Topology) => Record<string, unknown>, edit: (doc: Record<string, unknown>) => void, o: ApplyOptions): Promise<ApplyResult> {
    const next = this.queue.then(() => {
      const doc = document(this.current);
      edit(doc);
      return this.applyNow(this.normalize(doc), o);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyNow(loaded: TopologyResult, o: ApplyOptions): Promise<ApplyResult> {
    if (!loaded.ok) throw controlError(ControlErrorCode.INVALID_PARAMS, 'the topology is not valid', problems(o.at, loaded.errors));
    const next = loaded.topology;
    // New CHAP secrets are scrubbed from every log line from now on, whatever happens below.
    logSecrets.add(...topologySecrets(next));
    const diff = diffTopology(this.current, next);
    if (!diff.ok) throw controlError(ControlErrorCode.NOT_LIVE, 'the change cannot be made while the daemon runs', problems(o.at, diff.errors));
    const refused: ControlProblem[] = [];
    for (const s of diff.steps) {
      const why = this.live.refuses(s);
      if (why !== undefined) refused.push({ path: o.at, message: `${describeStep(s)}: ${why}` });
    }
    if (refused.length > 0) throw controlError(ControlErrorCode.NOT_LIVE, 'the change cannot be made while the daemon runs', refused);
    const steps = diff.steps.map(s => ({ op: s.op, description: describeStep(s) }));
    if (o.dryRun === true || diff.steps.length === 0) return { steps, applied: false };

    const log = this.log.child({ who: o.who, ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid, pid: o.pid } : {}) });
    this.live.begin?.(next);
    let done = 0;
    const r = await runTransaction(diff.steps, async (s) => {
      await this.live.run(s);
      const description = describeStep(s);
      log.info({ step: description, done: ++done, steps: steps.length }, 'configuration step done');
      o.progress?.({ done, steps: steps.length, description });
    }, log);
    if (r.ok) {
      this.current = next;
      log.info({ steps: steps.length, result: 'applied' }, `configuration change applied (${steps.length} step${steps.length === 1 ? '' : 's'})`);
      return { steps, applied: true };
    }
    // The steps whose undo failed are still in effect: the running topology says so.
    let running = this.current;
    for (const f of [...r.undoFailures].sort((a, b) => a.index - b.index)) running = applyStepToTopology(running, diff.steps[f.index]);
    this.current = running;
    const result = r.undoFailures.length > 0 ? 'failed, undo incomplete' : 'failed, undone';
    (r.undoFailures.length > 0 ? log.error.bind(log) : log.warn.bind(log))(
      { failed: r.failed, undone: r.undone, undoFailures: r.undoFailures, result }, `configuration change ${result}`,
    );
    throw new JSONRPCErrorException(`${r.failed.step}: ${r.failed.error}`, ControlErrorCode.TRANSACTION_FAILED, {
      ...errorData([{ path: o.at, message: r.failed.error }]),
      transaction: { failed: r.failed, undone: r.undone, undoFailures: r.undoFailures },
    });
  }
}

function problems(at: string, errors: readonly ConfigError[]): ControlProblem[] {
  return errors.map(e => ({ path: at + e.path, message: e.message }));
}
