// RFC 7143 11.5 / 11.6 (+ RFC 7144 6): Task Management Function requests. The engine performs
// the SAM-5 function on the tasks it holds; the transport first deals with the tasks only it
// knows about (commands still collecting Data-Out, or held for a CmdSN gap).
import { TmfFunction as EngineTmf, TmfResponse as EngineTmfResponse } from '../../engine/spec/status';
import { TmfFunction, TmfResponse } from './spec';
import type { TaskMgmtRequest } from './initiator-pdu';
import { encodeTmfResponse } from './target-pdu';
import { inWindow } from './serial';
import { DataState, ScsiCommandPath, Task } from './scsi-command';
import type { PhaseContext } from './phase-context';

/** What this module uses of the full feature phase, and the task table it aborts in. */
export type TmfContext = Pick<PhaseContext, 'finishedCommand' | 'host' | 'log' | 'nextSeq' | 'out' | 'session'> & {
  readonly commands: ScsiCommandPath;
};

const EMPTY = Buffer.alloc(0);

/** Which transport-held tasks a function affects before the engine sees it. */
export enum TmfScope {
  NONE = 'none',
  ONE_TASK = 'task',
  LUN = 'lun',
  ALL = 'all',
}

export interface TmfPlan {
  /** What the engine should run; undefined when the transport answers alone. */
  engineFn?: EngineTmf;
  scope: TmfScope;
  /** The answer when the transport answers alone. */
  response?: TmfResponse;
  /** RFC 7143 11.5.1: TARGET COLD RESET drops every connection after the response. */
  dropConnection?: boolean;
}

/** Table: iSCSI function → engine function and the transport tasks it clears. */
const PLANS: ReadonlyMap<number, TmfPlan> = new Map<number, TmfPlan>([
  [TmfFunction.ABORT_TASK, { engineFn: EngineTmf.ABORT_TASK, scope: TmfScope.ONE_TASK }],
  [TmfFunction.ABORT_TASK_SET, { engineFn: EngineTmf.ABORT_TASK_SET, scope: TmfScope.LUN }],
  [TmfFunction.CLEAR_ACA, { engineFn: EngineTmf.CLEAR_ACA, scope: TmfScope.NONE }],
  [TmfFunction.CLEAR_TASK_SET, { engineFn: EngineTmf.CLEAR_TASK_SET, scope: TmfScope.LUN }],
  [TmfFunction.LOGICAL_UNIT_RESET, { engineFn: EngineTmf.LOGICAL_UNIT_RESET, scope: TmfScope.LUN }],
  [TmfFunction.TARGET_WARM_RESET, { engineFn: EngineTmf.TARGET_WARM_RESET, scope: TmfScope.ALL }],
  [TmfFunction.TARGET_COLD_RESET, { engineFn: EngineTmf.TARGET_COLD_RESET, scope: TmfScope.ALL, dropConnection: true }],
  // RFC 7143 11.5.1: TASK REASSIGN needs ERL 2.
  [TmfFunction.TASK_REASSIGN, { scope: TmfScope.NONE, response: TmfResponse.TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED }],
  [TmfFunction.QUERY_TASK, { engineFn: EngineTmf.QUERY_TASK, scope: TmfScope.NONE }],
  [TmfFunction.QUERY_TASK_SET, { engineFn: EngineTmf.QUERY_TASK_SET, scope: TmfScope.NONE }],
  [TmfFunction.I_T_NEXUS_RESET, { engineFn: EngineTmf.I_T_NEXUS_RESET, scope: TmfScope.ALL }],
  [TmfFunction.QUERY_ASYNC_EVENT, { engineFn: EngineTmf.QUERY_ASYNC_EVENT, scope: TmfScope.NONE }],
]);

export function planTmf(fn: number): TmfPlan {
  return PLANS.get(fn) ?? { scope: TmfScope.NONE, response: TmfResponse.TMF_NOT_SUPPORTED };
}

/** The engine's SAM-5 service responses use the iSCSI numbering (RFC 7143 11.6.1). */
export function wireTmfResponse(r: EngineTmfResponse): TmfResponse {
  return r as number as TmfResponse;
}

/** RFC 7143 11.5: a Task Management Function Request, in its CmdSN turn. */
export function runTaskMgmtRequest(ffp: TmfContext, p: TaskMgmtRequest): void {
  const s = ffp.session;
  const commands = ffp.commands;
  const plan = planTmf(p.function);
  const answer = (r: TmfResponse): void => {
    ffp.finishedCommand(p.immediate);
    if (!ffp.host.isFullFeature) return;
    const bhs = ffp.out.bhs();
    encodeTmfResponse(bhs, 0, { ...ffp.nextSeq(), itt: p.itt, response: r });
    ffp.out.queue(bhs, EMPTY);
    ffp.out.scheduleFlush();
    if (plan.dropConnection) ffp.host.closeAfterFlush('target cold reset');
  };
  if (plan.response !== undefined || plan.engineFn === undefined) return answer(plan.response ?? TmfResponse.TMF_NOT_SUPPORTED);
  const nexus = s.nexus;
  if (!nexus) return answer(TmfResponse.FUNCTION_REJECTED);

  // Tasks the function reaches that are still only here are dropped here; submitted ones still
  // collecting Data-Out are aborted on the wire too, so the engine's wait for their data ends.
  const collecting: Task[] = [];
  let localOnly = false;
  const reach = (t: Task): void => {
    if (!t.submitted) {
      commands.dropTask(t);
      localOnly = true;
    } else if (t.data === DataState.COLLECTING) {
      collecting.push(t);
    }
  };
  if (plan.scope === TmfScope.ONE_TASK) {
    const t = commands.tasks.get(p.referencedTaskTag);
    if (t) reach(t);
    if (localOnly) return answer(TmfResponse.FUNCTION_COMPLETE);
    if (!t) {
      // RFC 7143 11.5.1: a referenced command not yet received but within the window is
      // considered received and aborted (function complete); otherwise the task does not exist.
      const w = s.window;
      if (!w.has(p.refCmdSN) && inWindow(p.refCmdSN, w.expCmdSN, w.maxCmdSN) && p.refCmdSN !== p.cmdSN) {
        w.skip(p.refCmdSN);
        w.finished();
        return answer(TmfResponse.FUNCTION_COMPLETE);
      }
      return answer(TmfResponse.TASK_DOES_NOT_EXIST);
    }
  } else if (plan.scope !== TmfScope.NONE) {
    for (const t of [...commands.tasks.values()]) {
      if (plan.scope === TmfScope.ALL || t.lun === p.lun) reach(t);
    }
  }
  const pending = nexus.taskManagement({ fn: plan.engineFn, lun: p.lun, refTag: p.referencedTaskTag });
  for (const t of collecting) commands.abortOnWire(t);
  pending.then(
    (r) => {
      const wire = wireTmfResponse(r);
      // The engine may have settled the task (its data failed) before the function reached it.
      answer(collecting.length > 0 && wire === TmfResponse.TASK_DOES_NOT_EXIST ? TmfResponse.FUNCTION_COMPLETE : wire);
    },
    (err: unknown) => {
      ffp.log.error({ err, fn: p.function }, 'task management failed');
      answer(TmfResponse.FUNCTION_REJECTED);
    },
  );
}
