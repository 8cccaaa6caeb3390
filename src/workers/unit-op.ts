// The shape of one unit operation and of a family of them (unit-ops.ts runs them; library-ops.ts
// and alua-ops.ts define theirs against this shape).

import type { Engine } from '../engine/engine';
import type { ConfigValue } from './messages';

/** One operation: its arguments are plain data, its value is returned as plain data. */
export type UnitOp = (engine: Engine, device: string, args: ConfigValue) => Promise<unknown>;

/**
 * A family's operations by name, and what an operation may throw besides a NexusError with the
 * code the caller sees for it (an ALUA change whose states could not be made durable: nothing
 * changed, the caller is told why).
 */
export interface UnitOpFamily {
  readonly ops: Readonly<Record<string, UnitOp>>;
  readonly otherFailure?: string;
}
