import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { LOCATE_10, LOCATE_16, LocateDestType, READ_POSITION, ReadPositionForm, REWIND, SPACE_16, SPACE_6 } from '../../cdb/defs/ssc';
import { check, good, GOOD, Outcome } from '../../result';
import { SENSE } from '../../spec/asc';
import { ExecContext } from '../../types';
import { senseFromErrno } from '../../backstores/errno-sense';
import { Cartridge } from '../../backstores/tape-cartridge';
import { cartridgeOf, tapeOf } from './drive';

/**
 * Positioning (SSC-4 4.2.x): SPACE(6)/(16), LOCATE(10)/(16), REWIND and READ POSITION. The position is a
 * logical object number (every data block and every filemark is one object); spacing and locating
 * look positions up in the cartridge's index, never reading the records.
 */

/** SSC-4 SPACE(6) CODE values; setmarks (100b) and sequential filemarks (010b) are not claimed. */
export const enum SpaceCode { LOGICAL_BLOCKS = 0b000, FILEMARKS = 0b001, END_OF_DATA = 0b011 }

/**
 * SPACE(6). Stopping early says why, with INFORMATION the absolute value of the count not spaced:
 * a filemark met while spacing over blocks (NO SENSE, FILEMARK, FILEMARK DETECTED; forward the
 * position is after it, backward before it), end-of-data (BLANK CHECK, END-OF-DATA DETECTED,
 * the position there), beginning of partition (NO SENSE, EOM, BEGINNING-OF-PARTITION/MEDIUM
 * DETECTED, the position there).
 */
export function sscSpace6(ctx: ExecContext<Decoded<typeof SPACE_6.fields>>): Outcome {
  return space(ctx, ctx.f.code, ctx.f.count, 0n);
}

/**
 * A count no cartridge can hold this many objects of: a SPACE(16) COUNT beyond it spaces as far as
 * this one, and the rest is added to the INFORMATION of where it stopped.
 */
const SPACE_LIMIT = 2 ** 52;

/**
 * SPACE(16): SPACE(6) with a 64-bit COUNT, whose residue may need more than the fixed-format
 * sense's 32-bit INFORMATION (SPC-4 4.5.3: VALID is then zero; descriptor sense carries all 64).
 */
export function sscSpace16(ctx: ExecContext<Decoded<typeof SPACE_16.fields>>): Outcome {
  const { code, count } = ctx.f;
  const magnitude = count < 0n ? -count : count;
  const n = magnitude > BigInt(SPACE_LIMIT) ? SPACE_LIMIT : Number(magnitude);
  return space(ctx, code, count < 0n ? -n : n, magnitude - BigInt(n));
}

function space(ctx: ExecContext<unknown>, code: number, count: number, beyond: bigint): Outcome {
  const t = tapeOf(ctx.lu);
  const c = cartridgeOf(ctx.lu);
  const p = t.position;
  switch (code) {
    case SpaceCode.END_OF_DATA:
      // SSC-4: the COUNT is ignored.
      t.position = c.objects;
      return GOOD;
    case SpaceCode.LOGICAL_BLOCKS:
      if (count === 0) return GOOD;
      return count > 0 ? spaceBlocksForward(t, c, p, count, beyond) : spaceBlocksBackward(t, c, p, -count, beyond);
    case SpaceCode.FILEMARKS:
      if (count === 0) return GOOD;
      return count > 0 ? spaceFilemarksForward(t, c, p, count, beyond) : spaceFilemarksBackward(t, c, p, -count, beyond);
    default:
      return invalidFieldOf(ctx.def, 'code');
  }
}

type Head = { position: number };

// `beyond`: what a SPACE(16) COUNT had past SPACE_LIMIT, part of every residue.
function atEod(t: Head, c: Cartridge, left: number, beyond: bigint): Outcome {
  t.position = c.objects;
  return check(SENSE.END_OF_DATA_DETECTED, { information: BigInt(left) + beyond });
}

function atBop(t: Head, left: number, beyond: bigint): Outcome {
  t.position = 0;
  return check(SENSE.BEGINNING_OF_PARTITION_MEDIUM_DETECTED, { eom: true, information: BigInt(left) + beyond });
}

function spaceBlocksForward(t: Head, c: Cartridge, p: number, n: number, beyond: bigint): Outcome {
  // The first filemark at or after the position bounds the blocks there are to space over.
  const fm = c.filemark(c.filemarksBefore(p));
  const limit = fm ?? c.objects;
  if (p + n <= limit) { t.position = p + n; return GOOD; }
  if (fm === undefined) return atEod(t, c, n - (c.objects - p), beyond);
  t.position = fm + 1;
  return check(SENSE.FILEMARK_DETECTED, { filemark: true, information: BigInt(n - (fm - p)) + beyond });
}

function spaceBlocksBackward(t: Head, c: Cartridge, p: number, n: number, beyond: bigint): Outcome {
  const before = c.filemarksBefore(p);
  const fm = before > 0 ? c.filemark(before - 1)! : -1;
  if (p - n > fm) { t.position = p - n; return GOOD; }
  if (fm < 0) return atBop(t, n - p, beyond);
  // The filemark stops the spacing: the position is on its beginning-of-partition side.
  t.position = fm;
  return check(SENSE.FILEMARK_DETECTED, { filemark: true, information: BigInt(n - (p - 1 - fm)) + beyond });
}

function spaceFilemarksForward(t: Head, c: Cartridge, p: number, n: number, beyond: bigint): Outcome {
  const before = c.filemarksBefore(p);
  const target = c.filemark(before + n - 1);
  if (target !== undefined) { t.position = target + 1; return GOOD; }
  const passed = c.filemarksBefore(c.objects) - before;
  return atEod(t, c, n - passed, beyond);
}

function spaceFilemarksBackward(t: Head, c: Cartridge, p: number, n: number, beyond: bigint): Outcome {
  const before = c.filemarksBefore(p);
  // SSC-4: spacing backward over filemarks ends on the beginning-of-partition side of the last.
  if (before >= n) { t.position = c.filemark(before - n)!; return GOOD; }
  return atBop(t, n - before, beyond);
}

/**
 * LOCATE(10). One partition: CP one with another PARTITION is refused. BT one (SSC-2's
 * vendor-specific block addresses, which Linux st asks for) names the same logical object
 * numbers. A position past end-of-data leaves the drive at end-of-data with BLANK CHECK.
 */
export function sscLocate10(ctx: ExecContext<Decoded<typeof LOCATE_10.fields>>): Outcome {
  const { cp, partition, logicalObjectIdentifier: id } = ctx.f;
  // SSC-4 LOCATE(10): PARTITION is read only with CP one, and partition 0 is the only one.
  if (cp && partition !== 0) return invalidFieldOf(ctx.def, 'partition');
  return locateObject(tapeOf(ctx.lu), cartridgeOf(ctx.lu), BigInt(id));
}

/**
 * LOCATE(16) (SSC-4): to a logical object (DEST_TYPE 000b, as LOCATE(10)), to the start of a
 * logical file (001b: the first object after that many filemarks, the LOGICAL FILE IDENTIFIER
 * READ POSITION's long form reports there) or to end-of-data (011b, the identifier ignored). A
 * file or object past end-of-data leaves the drive at end-of-data with BLANK CHECK.
 */
export function sscLocate16(ctx: ExecContext<Decoded<typeof LOCATE_16.fields>>): Outcome {
  const { destType, cp, partition, logicalIdentifier: id } = ctx.f;
  if (cp && partition !== 0) return invalidFieldOf(ctx.def, 'partition');
  const t = tapeOf(ctx.lu);
  const c = cartridgeOf(ctx.lu);
  switch (destType) {
    case LocateDestType.LOGICAL_OBJECT_IDENTIFIER:
      return locateObject(t, c, id);
    case LocateDestType.LOGICAL_FILE_IDENTIFIER: {
      if (id === 0n) { t.position = 0; return GOOD; }
      // File n starts after the nth filemark (0-based: filemark n - 1).
      const fm = id <= BigInt(c.objects) ? c.filemark(Number(id) - 1) : undefined;
      if (fm === undefined) return locateObject(t, c, BigInt(c.objects) + 1n);
      t.position = fm + 1;
      return GOOD;
    }
    case LocateDestType.END_OF_DATA:
      t.position = c.objects;
      return GOOD;
    default:
      return invalidFieldOf(ctx.def, 'destType');
  }
}

/** SSC-4 LOCATE: to logical object `id`; past end-of-data the drive stops there with BLANK CHECK. */
function locateObject(t: Head, c: Cartridge, id: bigint): Outcome {
  if (id > BigInt(c.objects)) {
    t.position = c.objects;
    return check(SENSE.END_OF_DATA_DETECTED);
  }
  t.position = Number(id);
  return GOOD;
}

/**
 * SSC-4 READ(16), WRITE(16), WRITE FILEMARKS(16): PARTITION and LOGICAL OBJECT IDENTIFIER name
 * where the command starts; a drive elsewhere locates there first, and a locate that fails ends
 * the command with its sense. A command that moves no object (a count of zero) does not move.
 * One partition: any other PARTITION is refused.
 */
export function locateFirst(ctx: ExecContext<{ partition: number; logicalObjectIdentifier: bigint }>, objects: number): Outcome | undefined {
  if (ctx.f.partition !== 0) return invalidFieldOf(ctx.def, 'partition');
  if (objects === 0) return undefined;
  const t = tapeOf(ctx.lu);
  if (BigInt(t.position) === ctx.f.logicalObjectIdentifier) return undefined;
  const refused = locateObject(t, cartridgeOf(ctx.lu), ctx.f.logicalObjectIdentifier);
  return refused === GOOD ? undefined : refused;
}

/** REWIND: to beginning of partition, writing out what the drive holds first (SSC-4). */
export async function sscRewind(ctx: ExecContext<Decoded<typeof REWIND.fields>>): Promise<Outcome> {
  const t = tapeOf(ctx.lu);
  try {
    await cartridgeOf(ctx.lu).sync();
  } catch (err) {
    return senseFromErrno(err, 'write');
  }
  t.position = 0;
  return GOOD;
}

/**
 * READ POSITION (SSC-4 7.x): the short forms (service actions 00h and 01h, the latter with the
 * drive's own block addresses, which are the logical object numbers here), the long form (06h)
 * and the extended form (08h). Records go straight to the cartridge, so the object buffer is
 * always empty: its counts are zero and valid (LOCU, BYCU zero).
 */
export function sscReadPosition(ctx: ExecContext<Decoded<typeof READ_POSITION.fields>>): Outcome {
  const { serviceAction, allocationLength } = ctx.f;
  const t = tapeOf(ctx.lu);
  const c = cartridgeOf(ctx.lu);
  const p = t.position;
  const bop = p === 0 ? 0x80 : 0; // BOP
  // BPEW: the position is in the early-warning zone (the records before it reach into it).
  const bpew = c.bytesBefore(p) > c.label.capacityBytes - c.label.earlyWarningBytes ? 0x01 : 0;
  switch (serviceAction) {
    case ReadPositionForm.SHORT_FORM_BLOCK_ID:
    case ReadPositionForm.SHORT_FORM_VENDOR_SPECIFIC: {
      if (allocationLength !== 0) return invalidFieldOf(ctx.def, 'allocationLength');
      const b = Buffer.alloc(20);
      b[0] = bop | bpew; // BOP | EOP 0 | LOCU 0 | BYCU 0 | LOLU 0 | PERR 0 | BPEW
      b[1] = 0; // PARTITION NUMBER
      b.writeUInt32BE(p, 4); // FIRST LOGICAL OBJECT LOCATION
      b.writeUInt32BE(p, 8); // LAST LOGICAL OBJECT LOCATION (nothing buffered: the same)
      // bytes 13..15 NUMBER OF LOGICAL OBJECTS IN OBJECT BUFFER, 16..19 NUMBER OF BYTES: 0
      return good(b);
    }
    case ReadPositionForm.LONG_FORM: {
      if (allocationLength !== 0) return invalidFieldOf(ctx.def, 'allocationLength');
      const b = Buffer.alloc(32);
      b[0] = bop | bpew; // BOP | EOP 0 | MPU 0 | LONU 0 | BPEW
      b.writeUInt32BE(0, 4); // PARTITION NUMBER
      b.writeBigUInt64BE(BigInt(p), 8); // LOGICAL OBJECT NUMBER
      b.writeBigUInt64BE(BigInt(c.filemarksBefore(p)), 16); // LOGICAL FILE IDENTIFIER
      return good(b);
    }
    case ReadPositionForm.EXTENDED_FORM: {
      const b = Buffer.alloc(32);
      b[0] = bop | bpew; // BOP | EOP 0 | LOCU 0 | BYCU 0 | LOLU 0 | PERR 0 | BPEW
      b[1] = 0; // PARTITION NUMBER
      b.writeUInt16BE(0x1c, 2); // ADDITIONAL LENGTH
      // bytes 5..7 NUMBER OF LOGICAL OBJECTS IN OBJECT BUFFER: 0
      b.writeBigUInt64BE(BigInt(p), 8); // FIRST LOGICAL OBJECT LOCATION
      b.writeBigUInt64BE(BigInt(p), 16); // LAST LOGICAL OBJECT LOCATION
      // bytes 24..31 NUMBER OF BYTES IN OBJECT BUFFER: 0
      return good(b);
    }
    default:
      return invalidFieldOf(ctx.def, 'serviceAction');
  }
}
