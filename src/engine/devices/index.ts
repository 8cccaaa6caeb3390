/**
 * Every device personality Nexus has. Loading this module registers them with the device
 * registry (device-registry.ts); the engine (engine.ts) loads it once, and nothing else in the
 * engine core imports a personality.
 */
import './disk';
import './cdrom';
import './changer';
import './tape';
// Last: a pass-through unit's table is made of the rows the others registered.
import './passthrough';

export { deviceTypes } from '../device-registry';
