import { SENSE } from './spec/asc';
import { TmfFunction, TmfResponse } from './spec/status';
import { TmfRequest } from './command';
import { Task } from './task-set';
import type { LogicalUnit } from './logical-unit';
import type { LunMap } from './lun-map';
import { releaseSpc2 } from './shared-reservations';

/** The I_T nexus a task management function comes in on. */
export interface TmfNexus {
  readonly id: number;
  readonly itKey: string;
  readonly targetName: string;
  readonly map: LunMap;
  units(): LogicalUnit[];
}

/** What target-wide functions (TARGET RESET) reach: every unit of a target, whatever map has it. */
export interface TmfTarget { unitsOfTarget(targetName: string): LogicalUnit[] }

/**
 * Task management (SAM-5 7), "safe" as SCST does it: a function completes only after every task it
 * affects has quiesced, so no aborted command can still touch the medium after the response.
 * Tasks of other I_T nexuses that a function clears leave them COMMANDS CLEARED BY ANOTHER
 * INITIATOR (SAM-5 7.4, 7.6 with TAS = 0, which is what the control mode page reports).
 */
export async function executeTmf(nexus: TmfNexus, engine: TmfTarget, req: TmfRequest): Promise<TmfResponse> {
  const unitFor = (): LogicalUnit | undefined => nexus.map.entries.get(req.lun)?.lu;
  switch (req.fn) {
    case TmfFunction.ABORT_TASK: {
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      const t = req.refTag === undefined ? undefined : lu.tasks.find(nexus.id, req.refTag);
      if (!t) return TmfResponse.TASK_DOES_NOT_EXIST;
      await lu.tasks.abort(x => x === t).quiesced;
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.ABORT_TASK_SET: {
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      await lu.tasks.abort(t => t.nexusId === nexus.id).quiesced;
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.CLEAR_TASK_SET: {
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      await clearUnit(lu, nexus);
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.LOGICAL_UNIT_RESET: {
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      await resetUnit(lu);
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.TARGET_WARM_RESET:
    case TmfFunction.TARGET_COLD_RESET: {
      // Every unit of the target, whatever LUN map reaches it (SAM-5 obsolete TARGET RESET, kept
      // by iSCSI as TARGET WARM/COLD RESET).
      await Promise.all(engine.unitsOfTarget(nexus.targetName).map(lu => resetUnit(lu)));
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.I_T_NEXUS_RESET: {
      // SAM-5 7.11: as if the I_T nexus were lost, except that it stays usable.
      await Promise.all(nexus.units().map(async lu => {
        await lu.tasks.abort(t => t.nexusId === nexus.id).quiesced;
        releaseSpc2(lu, nexus.itKey);
        // SBC-4 PREVENT ALLOW MEDIUM REMOVAL: an I_T nexus loss ends that nexus's prevention.
        lu.preventRemoval.delete(nexus.id);
        lu.ua.queue(nexus.itKey).add(SENSE.I_T_NEXUS_LOSS_OCCURRED);
      }));
      return TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.QUERY_TASK: {
      // SAM-5 7.9: FUNCTION SUCCEEDED if the task is in the task set.
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      const t = req.refTag === undefined ? undefined : lu.tasks.find(nexus.id, req.refTag);
      return t && !t.aborted ? TmfResponse.FUNCTION_SUCCEEDED : TmfResponse.FUNCTION_COMPLETE;
    }
    case TmfFunction.QUERY_TASK_SET: {
      const lu = unitFor();
      if (!lu) return TmfResponse.LUN_DOES_NOT_EXIST;
      const any = lu.tasks.list().some(t => t.nexusId === nexus.id && !t.aborted);
      return any ? TmfResponse.FUNCTION_SUCCEEDED : TmfResponse.FUNCTION_COMPLETE;
    }
    default:
      return TmfResponse.FUNCTION_NOT_SUPPORTED;
  }
}

/** Abort every task on the unit; other nexuses that lost tasks get COMMANDS CLEARED BY ANOTHER INITIATOR. */
async function clearUnit(lu: LogicalUnit, by: TmfNexus): Promise<Task[]> {
  const { tasks, quiesced } = lu.tasks.abort(() => true);
  for (const t of tasks) if (t.nexusId !== by.id) lu.ua.queue(t.itKey).add(SENSE.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
  await quiesced;
  return tasks;
}

/**
 * SAM-5 7.7 LOGICAL UNIT RESET: clear the task set, release SPC-2 reservations and medium removal
 * prevention, and establish BUS DEVICE RESET FUNCTION OCCURRED for every I_T nexus of the unit,
 * the one that asked included (SAM-5 6.3.3: a logical unit reset establishes a unit attention
 * condition; each path of a multipath initiator learns of it, libiscsi SCSI.MultipathIO.Reset).
 */
async function resetUnit(lu: LogicalUnit): Promise<void> {
  const { quiesced } = lu.tasks.abort(() => true);
  await quiesced;
  releaseSpc2(lu);
  lu.preventRemoval.clear();
  await lu.device.resetDevice?.(lu);
  lu.ua.raiseAll(SENSE.BUS_DEVICE_RESET_FUNCTION_OCCURRED);
  // A unit several gateways export resets through all of them: their tasks too, their nexuses'
  // unit attentions too, before the function completes.
  await lu.pr.sharing?.announce({ ua: [], abort: [], reset: true });
}
