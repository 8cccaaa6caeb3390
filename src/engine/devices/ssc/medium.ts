import { Decoded } from '../../cdb/dsl';
import { ERASE_6, LOAD_UNLOAD } from '../../cdb/defs/ssc';
import { check, GOOD, NexusError, Outcome } from '../../result';
import { SENSE } from '../../spec/asc';
import { ExecContext, LuView } from '../../types';
import { senseFromErrno } from '../../backstores/errno-sense';
import { cartridgeOf, tapeOf } from './drive';

/**
 * The cartridge in the drive (SSC-4 4.2.x, 6.x): LOAD UNLOAD, ERASE, and the host's removable-
 * medium operation (a medium changer moving a cartridge in or out, or the control plane).
 */

/**
 * LOAD UNLOAD. LOAD one threads the cartridge in the drive and positions it at beginning of
 * partition (RETEN, a retension pass, has nothing to do on a file; HOLD keeps it where it is
 * loaded, which is the same place). LOAD zero writes out what is buffered, rewinds and unloads:
 * the medium is no longer ready until a LOAD, and a medium changer may take the cartridge. An
 * unload while PREVENT ALLOW MEDIUM REMOVAL holds it is refused (SSC-4: MEDIUM REMOVAL PREVENTED).
 */
export async function sscLoadUnload(ctx: ExecContext<Decoded<typeof LOAD_UNLOAD.fields>>): Promise<Outcome> {
  const lu = ctx.lu;
  const t = tapeOf(lu);
  if (ctx.f.load) {
    if (!t.cartridge) return check(SENSE.MEDIUM_NOT_PRESENT);
    t.loaded = true;
    t.position = 0;
    lu.mediumPresent = true;
    return GOOD;
  }
  if (lu.preventRemoval.size > 0) return check(SENSE.MEDIUM_REMOVAL_PREVENTED);
  if (!t.cartridge || !t.loaded) return check(SENSE.MEDIUM_NOT_PRESENT);
  try {
    await t.cartridge.sync();
  } catch (err) {
    return senseFromErrno(err, 'write');
  }
  t.loaded = false;
  t.position = 0;
  lu.mediumPresent = false;
  return GOOD;
}

/**
 * ERASE(6): from the position on, the cartridge is erased and the position becomes end-of-data;
 * LONG one erases to the end of the partition, LONG zero writes an end-of-data there, which in
 * this format is the same thing (docs/tape-format.md: nothing follows end-of-data).
 */
export async function sscErase6(ctx: ExecContext<Decoded<typeof ERASE_6.fields>>): Promise<Outcome> {
  const t = tapeOf(ctx.lu);
  const c = cartridgeOf(ctx.lu);
  try {
    await c.truncate(t.position);
    if (!ctx.f.immed) await c.sync();
  } catch (err) {
    return senseFromErrno(err, 'write');
  }
  return GOOD;
}

/**
 * The host changes the cartridge (a medium changer's MOVE MEDIUM, or the control plane): `path`
 * undefined takes the cartridge out of the drive, a path puts that cartridge in and loads it
 * (a changer's load is a load). Every I_T nexus then gets NOT READY TO READY CHANGE, MEDIUM MAY
 * HAVE CHANGED (SPC-4 5.14) for a new cartridge. A cartridge held by PREVENT ALLOW MEDIUM
 * REMOVAL stays (NexusError ERR_MEDIUM_REMOVAL_PREVENTED).
 */
export async function changeMedium(lu: LuView, path: string | undefined): Promise<void> {
  const t = tapeOf(lu);
  if (lu.preventRemoval.size > 0 && t.cartridge) {
    throw new NexusError('ERR_MEDIUM_REMOVAL_PREVENTED', `${lu.name}: ${SENSE.MEDIUM_REMOVAL_PREVENTED.name}`);
  }
  if (path === undefined) {
    await t.remove();
    lu.mediumPresent = false;
    return;
  }
  await t.insert(path);
  lu.mediumPresent = true;
  lu.raiseUa(SENSE.NOT_READY_TO_READY_CHANGE);
}

/** The cartridge in the drive, for a medium changer or the control plane (undefined: empty). */
export function loadedCartridge(lu: LuView): { path: string; barcode: string; loaded: boolean } | undefined {
  const t = tapeOf(lu);
  const c = t.cartridge;
  return c ? { path: c.path, barcode: c.label.barcode, loaded: t.loaded } : undefined;
}
