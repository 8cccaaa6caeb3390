// A unit's asymmetric access states (SPC-4 5.16), read and changed on the thread that homes the
// unit: what the control socket's alua.* methods ask for, as one request/reply pair on the
// control plane (messages.ts AluaRequest / AluaReply), as library-ops.ts does for libraries.

import type { Engine } from '../engine/engine';
import { NexusError } from '../engine/result';
import type { AccessStateName } from '../engine/topology';
import type { AluaReply, AluaRequest, ConfigValue } from './messages';

/** The operations the control plane carries: read the states, or change some (implicitly). */
export type AluaOp = 'get' | 'set';

export type AluaAnswer = Pick<AluaReply, 'error' | 'message' | 'result'>;

/**
 * Carry out `m` on the Engine that hosts the unit; a NexusError (or a failed save of the states)
 * becomes its code and message. A set answers once the states are durable and every transition
 * time has passed, with the states as they then are.
 */
export async function aluaCall(engine: Engine, m: Omit<AluaRequest, 'type' | 'requestId'>): Promise<AluaAnswer> {
  try {
    if (m.op === 'set') {
      await engine.setAccessStates(m.device, m.states as Record<number, AccessStateName>);
    } else if (m.op !== 'get') {
      return { error: 'ERR_ALUA', message: `no ALUA operation "${m.op}"`, result: null };
    }
    return { error: '', message: '', result: { device: m.device, ...engine.accessStates(m.device) } as unknown as ConfigValue };
  } catch (e) {
    if (e instanceof NexusError) return { error: e.code, message: e.message, result: null };
    // The states could not be made durable: nothing changed (alua.ts), the caller is told why.
    return { error: 'ERR_ALUA_PERSIST', message: (e as Error).message, result: null };
  }
}
