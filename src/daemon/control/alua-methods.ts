// The control methods of asymmetric logical unit access (docs/control.md): read a unit's access
// state per target port group, and change it (an implicit transition, SPC-4 5.16.2). Each is
// carried out on the engine thread that homes the unit (Supervisor.unit, workers/alua-ops.ts); the change is durable
// in the state directory before the method answers, and every I_T nexus of the unit gets
// ASYMMETRIC ACCESS STATE CHANGED.

import type { UnitAnswer } from '../../workers/unit-ops';
import type { AccessStateName } from '../../engine/topology';
import { ACCESS_STATE_NAMES } from '../../engine/alua';
import type { DaemonControl } from './daemon-methods';
import { ControlMethod, controlError, defineMethod } from './methods';
import { ControlErrorCode, ControlProblem } from './protocol';

/** The method's result, or the engine's refusal as the client's error (with its code). */
function resultOf(a: UnitAnswer, path: string): unknown {
  if (a.error === '') return a.result;
  const problem: ControlProblem & { code: string } = { path, message: a.message, code: a.error };
  if (a.error === 'ERR_TOPOLOGY' || a.error === 'ERR_NO_DEVICE') throw controlError(ControlErrorCode.NOT_FOUND, a.message, [problem]);
  if (a.error === 'ERR_ALUA_PERSIST') throw controlError(ControlErrorCode.REFUSED, a.message, [problem]);
  throw controlError(ControlErrorCode.INTERNAL_ERROR, a.message, [problem]);
}

const device = { type: 'string', minLength: 1 } as const;

export function aluaMethods(d: DaemonControl): ControlMethod[] {
  return [
    defineMethod<{ device: string }>('alua.get', 'a device\'s TPGS mode, transition time and access state per target port group', {
      type: 'object', additionalProperties: false, required: ['device'], properties: { device },
    }, async p => resultOf(await d.unit(p.device, 'alua.get', {}), '/params/device')),
    defineMethod<{ device: string; states: Record<string, AccessStateName> }>('alua.set',
      'change a device\'s access states by target port group id (an implicit transition)', {
        type: 'object', additionalProperties: false, required: ['device', 'states'],
        properties: {
          device,
          // SPC-4 6.37: 16-bit group ids; transitioning is the engine's own passage, never asked for.
          states: {
            type: 'object', minProperties: 1,
            propertyNames: { pattern: '^[1-9][0-9]{0,4}$' },
            additionalProperties: { enum: ACCESS_STATE_NAMES.filter(s => s !== 'transitioning') },
          },
        },
      }, async p => {
        return resultOf(await d.unit(p.device, 'alua.set', { ...p.states }), '/params');
      }),
  ];
}
