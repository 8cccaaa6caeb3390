// RFC 7143 11.5 / 11.6 (+ RFC 7144 6): Task Management Function requests. The engine performs
// the SAM-5 function on the tasks it holds; the transport first deals with the tasks only it
// knows about (commands still collecting Data-Out, or held for a CmdSN gap).
import { TmfFunction as EngineTmf, TmfResponse as EngineTmfResponse } from '../../engine/spec/status';
import { TmfFunction, TmfResponse } from './spec';

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
