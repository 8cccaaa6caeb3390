// A unit's asymmetric access states (SPC-4 5.16), read and changed on the thread that homes the
// unit: what the control socket's alua.* methods ask for, as unit operations (unit-ops.ts).

import type { AccessStateName } from '../engine/topology';
import type { UnitOpFamily } from './unit-op';

export const ALUA_OPS = {
  ops: {
    get: async (engine, device) => ({ device, ...engine.accessStates(device) }),
    /**
     * Change some states implicitly (by target port group id); answers once the states are durable
     * and every transition time has passed, with the states as they then are.
     */
    set: async (engine, device, args) => {
      await engine.setAccessStates(device, args as Record<number, AccessStateName>);
      return { device, ...engine.accessStates(device) };
    },
  },
  // The states could not be made durable: nothing changed (alua.ts), the caller is told why.
  otherFailure: 'ERR_ALUA_PERSIST',
} as const satisfies UnitOpFamily;
