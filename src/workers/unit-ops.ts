// Operations on one unit that the control plane asks for and that must run where the unit lives:
// on the engine thread that homes it (placement.ts), or on the calling thread when that is its
// home. One request/reply pair carries them all (messages.ts UnitRequest / UnitReply); each
// family adds its operations to UNIT_OPS (library-ops.ts: a medium changer's mail slots;
// alua-ops.ts: asymmetric access states).

import type { Engine } from '../engine/engine';
import { NexusError } from '../engine/result';
import type { ConfigValue, UnitReply } from './messages';
import { LIBRARY_OPS } from './library-ops';
import { ALUA_OPS } from './alua-ops';
import type { UnitOpFamily } from './unit-op';

export type UnitAnswer = Pick<UnitReply, 'error' | 'message' | 'result'>;


const FAMILIES: Readonly<Record<string, UnitOpFamily>> = { library: LIBRARY_OPS, alua: ALUA_OPS };

/** The operation names the control plane may send ("library.list", "alua.set", ...). */
export type UnitOpName = `library.${keyof typeof LIBRARY_OPS.ops & string}` | `alua.${keyof typeof ALUA_OPS.ops & string}`;

/** Carry out operation `op` on `device` of this thread's Engine; a NexusError becomes its code and message. */
export async function unitCall(engine: Engine, device: string, op: string, args: ConfigValue): Promise<UnitAnswer> {
  const dot = op.indexOf('.');
  const family = FAMILIES[op.slice(0, dot)];
  const run = dot > 0 ? family?.ops[op.slice(dot + 1)] : undefined;
  if (!family || !run) return { error: 'ERR_UNIT_OP', message: `no unit operation "${op}"`, result: null };
  try {
    const v = await run(engine, device, args);
    // Plain data for the control plane (optional fields dropped when absent).
    return { error: '', message: '', result: JSON.parse(JSON.stringify(v ?? null)) as ConfigValue };
  } catch (e) {
    if (e instanceof NexusError) return { error: e.code, message: e.message, result: null };
    if (family.otherFailure !== undefined) return { error: family.otherFailure, message: (e as Error).message, result: null };
    throw e;
  }
}
