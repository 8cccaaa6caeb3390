import { NexusError, Outcome, check } from '../../result';
import { SENSE } from '../../spec/asc';
import { LuView } from '../../types';
import { TapeBackstore } from '../../backstores/tape';
import { Cartridge } from '../../backstores/tape-cartridge';

/**
 * What every SSC-4 command of the tape drive shares: the drive state (backstores/tape.ts) of a
 * unit, the block limits it promises, and the end-of-medium checks of writes.
 */

/**
 * READ BLOCK LIMITS (SSC-4 7.4): blocks of 1 byte to 1 MiB in either mode, so that one block
 * always fits a transport's buffer budget; GRANULARITY 0 (any length).
 */
export const BLOCK_LIMITS = Object.freeze({ minimum: 1, maximum: 1024 * 1024, granularity: 0 });

/**
 * The density code of this drive's cartridges in the mode block descriptor and REPORT DENSITY
 * SUPPORT. SSC-4 reserves 80h..FFh for vendor formats: the cartridge format of
 * docs/tape-format.md is one, and no T10 density code describes it.
 */
export const DENSITY_CODE = 0x80;

/** The drive's state of a unit of the tape device type. */
export function tapeOf(lu: LuView): TapeBackstore {
  if (!(lu.backstore instanceof TapeBackstore)) throw new NexusError('ERR_TOPOLOGY', `device "${lu.name}" is not a tape drive (handler vtape)`);
  return lu.backstore;
}

/** The loaded cartridge (the pipeline has checked that the medium is ready). */
export function cartridgeOf(lu: LuView): Cartridge {
  const c = tapeOf(lu).cartridge;
  if (!c) throw new NexusError('ERR_TAPE_STATE', `${lu.name}: a medium command reached a drive without a cartridge`);
  return c;
}

/** SSC-4 4.2.5: the records have entered the early-warning zone. */
export function pastEarlyWarning(c: Cartridge): boolean {
  return c.usedBytes > c.label.capacityBytes - c.label.earlyWarningBytes;
}

/**
 * SSC-4 4.2.5: a write command that completed in the early-warning zone still reports it: NO
 * SENSE with EOM and END-OF-PARTITION/MEDIUM DETECTED, INFORMATION 0 (nothing left undone).
 */
export function earlyWarning(): Outcome {
  return check(SENSE.END_OF_PARTITION_MEDIUM_DETECTED, { eom: true, information: 0n });
}

/** The 32-bit INFORMATION field of a residue that may be negative (SSC-4: two's complement). */
export function residue(n: number): bigint {
  return BigInt.asUintN(32, BigInt(n));
}
