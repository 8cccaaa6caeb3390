import * as D from './cdb/defs/pr';
import { SENSE } from './spec/asc';
import { PrOutSa } from './spec/opcodes';
import { Outcome } from './result';
import { prInData } from './pr';
import { parsePrOut } from './pr-out-parameters';
import { Binding, bind, ExecContext } from './types';

/**
 * PERSISTENT RESERVE IN and OUT (SPC-4 6.15, 6.16) bound to the unit's persistent reservation
 * state (pr.ts). The state decides; this module applies the effects to the unit: unit attentions
 * to the affected I_T nexuses and, for PREEMPT AND ABORT, the preempted nexuses' tasks.
 */

type PrInCtx = ExecContext<{ allocationLength: number }>;
type PrOutCtx = ExecContext<{ scope: number; type: number; parameterListLength: number }>;

function prIn(ctx: PrInCtx): Outcome {
  return prInData(ctx.lu.pr, ctx.def.sa!);
}

async function prOut(ctx: PrOutCtx): Promise<Outcome> {
  const { lu, nexus } = ctx;
  const req = parsePrOut(ctx.def.sa as PrOutSa, ctx.f.scope, ctx.f.type, ctx.dataOut);
  if ('status' in req) return req;
  // SPC-4 5.12.5: the command completes only once the new state is durable (commit()).
  const fx = await lu.pr.commit({
    itKey: nexus.itKey, initiatorPort: nexus.initiatorPort, relativeTargetPortId: nexus.relativeTargetPortId,
    relativeTargetPortIds: nexus.portGroups.flatMap(g => g.relativeTargetPortIds),
    nexusKeyAt: (port, rtpi) => nexus.nexusKeyAt(port, rtpi),
  }, req);
  // SAM-5 5.14: an I_T nexus not seen since power on (an APTPL registration whose initiator has
  // not logged in) starts with POWER ON, RESET, which supersedes these; it gets no queue before.
  for (const u of fx.ua) if (lu.ua.has(u.itKey)) lu.ua.queue(u.itKey).add(u.cond);
  if (fx.abort.length > 0) {
    // SPC-4 5.12.11.4.4: the preempted I_T nexuses' tasks are aborted; with TAS 0 each of them is
    // told COMMANDS CLEARED BY ANOTHER INITIATOR (SAM-5 5.6). The sender's tasks are never hit.
    const victims = new Set(fx.abort);
    const { tasks, quiesced } = lu.tasks.abort(t => victims.has(t.itKey) && t.nexusId !== nexus.id);
    for (const k of new Set(tasks.map(t => t.itKey))) lu.ua.queue(k).add(SENSE.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
    await quiesced;
  }
  return fx.outcome;
}

export const prBindings: Binding[] = [
  ...D.PRIN_ROWS.map(def => bind(def, prIn)),
  ...D.PROUT_ROWS.map(def => bind(def, prOut)),
];
