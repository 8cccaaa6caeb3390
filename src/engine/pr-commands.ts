import * as D from './cdb/defs/pr';
import { PrOutSa } from './spec/opcodes';
import { Outcome } from './result';
import { prInData } from './pr';
import { parsePrOut } from './pr-out-parameters';
import { applyReservationEvent } from './shared-reservations';
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
  // Unit attentions and PREEMPT AND ABORT's aborted tasks for this gateway's I_T nexuses (the
  // sender's tasks are never hit); other gateways apply theirs before the change completes.
  await applyReservationEvent(lu, fx, nexus.id);
  return fx.outcome;
}

export const prBindings: Binding[] = [
  ...D.PRIN_ROWS.map(def => bind(def, prIn)),
  ...D.PROUT_ROWS.map(def => bind(def, prOut)),
];
