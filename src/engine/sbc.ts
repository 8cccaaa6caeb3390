import { senseFromErrno } from './backstores/errno-sense';
import * as D from './cdb/defs/sbc';
import { GOOD, Outcome, check, good } from './result';
import { byteOffset, checkLbaRange, IO_CHUNK_BYTES, withRangeLock } from './sbc-io';
import { provisioningBindings } from './sbc-provisioning';
import { rwBindings } from './sbc-rw';
import { sanitizeBindings } from './sbc-sanitize';
import { SENSE } from './spec/asc';
import { Status } from './spec/status';
import { Binding, Exec, LuView, bind } from './types';
import { invalidFieldOf } from './cdb/dsl';
import { BLOCK_LIMITS } from './vpd';

/**
 * The SBC-4 disk command set: capacity, cache control, unit control and defect data here; data
 * commands in sbc-rw.ts; provisioning in sbc-provisioning.ts. `sbcBindings` is every row with its
 * execute step, for the disk device type.
 */

export { sbcLimits, checkLbaRange, type SbcLimits } from './sbc-io';
export { ProvisioningStatus } from './sbc-provisioning';

/**
 * The limits the block limits VPD page (B0h) reports and the handlers enforce: one definition,
 * in vpd.ts's BLOCK_LIMITS (bytes), with `sbcLimits(blockSize)` giving them in blocks.
 */
export const SBC_LIMITS = BLOCK_LIMITS;

// --- READ CAPACITY ---------------------------------------------------------------------------

/** SBC-4 READ CAPACITY(10): RETURNED LOGICAL BLOCK ADDRESS saturates at FFFFFFFFh (use (16)). */
export const execReadCapacity10: Exec<Record<string, never>> = ctx => {
  const { lu } = ctx;
  const last = lu.blocks - 1n;
  const b = Buffer.alloc(8);
  b.writeUInt32BE(last > 0xfffffffen ? 0xffffffff : Number(last), 0); // bytes 0..3 RETURNED LBA
  b.writeUInt32BE(lu.blockSize, 4); // bytes 4..7 LOGICAL BLOCK LENGTH IN BYTES
  return good(b);
};

/** SBC-4 RC BASIS 01b: RETURNED LOGICAL BLOCK ADDRESS is the last LBA of the logical unit. */
const RC_BASIS_LAST_LBA = 0b01;

/** SBC-4 READ CAPACITY(16) parameter data, 32 bytes. */
export function buildReadCapacity16(lu: LuView): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64BE(lu.blocks - 1n, 0); // bytes 0..7 RETURNED LOGICAL BLOCK ADDRESS
  b.writeUInt32BE(lu.blockSize, 8); // bytes 8..11 LOGICAL BLOCK LENGTH IN BYTES
  b[12] = RC_BASIS_LAST_LBA << 4; // byte 12: RC BASIS (5..4), P_TYPE 0, PROT_EN 0
  b[13] = lu.physicalExponent & 0x0f; // byte 13: P_I_EXPONENT 0, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
  const thin = lu.backstore.thin;
  // byte 14: LBPME (7) thin provisioning enabled, LBPRZ (6) unmapped blocks read as zeros,
  // LOWEST ALIGNED LOGICAL BLOCK ADDRESS (bits 13..8 in 5..0); byte 15 its low byte: LBA 0 is aligned.
  b[14] = (thin ? 0x80 | 0x40 : 0);
  b[15] = 0;
  return b; // bytes 16..31 reserved
}

export const execReadCapacity16: Exec<{ allocationLength: number }> = ctx => good(buildReadCapacity16(ctx.lu));

// --- PRE-FETCH / SYNCHRONIZE CACHE -----------------------------------------------------------

/**
 * How much a PRE-FETCH may pull into the file backstore's cache (the host page cache, whose free
 * room is not knowable): within this, CONDITION MET; beyond it, the first part is read and the
 * answer is GOOD ("the cache does not have room for all of it").
 */
export const PREFETCH_CACHE_BYTES = 32 * 1024 * 1024;

interface RangeFields { lba: number | bigint; blocks: number; immed: boolean }

/** A length of 0 means "from LBA to the last LBA" (PRE-FETCH and SYNCHRONIZE CACHE). */
function rangeToEnd(lu: LuView, f: RangeFields): { lba: bigint; blocks: bigint } | Outcome {
  const lba = BigInt(f.lba);
  if (f.blocks === 0) {
    if (lba > lu.blocks) return check(SENSE.LBA_OUT_OF_RANGE, { information: lba });
    return { lba, blocks: lu.blocks - lba };
  }
  const oob = checkLbaRange(lu, lba, BigInt(f.blocks));
  return oob ?? { lba, blocks: BigInt(f.blocks) };
}

function isOutcome(v: object): v is Outcome { return 'status' in v; }

/**
 * PRE-FETCH(10/16) (SBC-4): CONDITION MET when every requested block is (or, with IMMED, will be)
 * in cache, GOOD when the cache cannot hold them all. Memory and null stores hold every block
 * already. File stores read the range through the page cache up to PREFETCH_CACHE_BYTES.
 */
export const execPreFetch: Exec<RangeFields> = async ctx => {
  const { lu } = ctx;
  const r = rangeToEnd(lu, ctx.f);
  if (isOutcome(r)) return r;
  const kind = lu.backstore.kind;
  if (kind === 'memory' || kind === 'null') return { status: Status.CONDITION_MET };
  const total = r.blocks * BigInt(lu.blockSize);
  const fits = total <= BigInt(PREFETCH_CACHE_BYTES);
  const bytes = Number(fits ? total : BigInt(PREFETCH_CACHE_BYTES));
  // Lock only the blocks actually read, so writers elsewhere in a long range are not held up.
  const warm = (): Promise<void> => withRangeLock(lu, r.lba, BigInt(bytes / lu.blockSize), false, async () => {
    const buf = Buffer.allocUnsafe(Math.min(bytes, IO_CHUNK_BYTES));
    const off = byteOffset(lu, r.lba);
    for (let done = 0; done < bytes;) {
      const len = Math.min(buf.length, bytes - done);
      await lu.backstore.read(off + done, buf.subarray(0, len));
      done += len;
    }
  });
  const status = fits ? Status.CONDITION_MET : Status.GOOD;
  if (ctx.f.immed) {
    // IMMED: status now; a later read error surfaces on the read that needs the block.
    warm().catch(() => undefined);
    return { status };
  }
  try {
    await warm();
  } catch (e) {
    return senseFromErrno(e, 'read');
  }
  return { status };
};

/**
 * SYNCHRONIZE CACHE(10/16) (SBC-4): the range is checked, then the whole store is flushed
 * (fdatasync has no range; flushing more than asked is allowed). IMMED returns GOOD once the
 * command is validated and lets the flush finish on its own.
 */
export const execSynchronizeCache: Exec<RangeFields> = async ctx => {
  const { lu } = ctx;
  const r = rangeToEnd(lu, ctx.f);
  if (isOutcome(r)) return r;
  const flush = lu.backstore.flush();
  if (ctx.f.immed) {
    flush.catch(() => undefined);
    return GOOD;
  }
  try {
    await flush;
  } catch (e) {
    return senseFromErrno(e, 'write');
  }
  return GOOD;
};

// --- START STOP UNIT / PREVENT ALLOW MEDIUM REMOVAL ------------------------------------------

/** SBC-4 START STOP UNIT POWER CONDITION values. */
export enum PowerCondition {
  START_VALID = 0x0,
  ACTIVE = 0x1,
  IDLE = 0x2,
  STANDBY = 0x3,
  LU_CONTROL = 0x7,
  FORCE_IDLE_0 = 0xa,
  FORCE_STANDBY_0 = 0xb,
}

const POWER_CONDITIONS: ReadonlySet<number> = new Set(
  Object.values(PowerCondition).filter((v): v is number => typeof v === 'number'));

/** SBC-4's fields; MMC-6 START STOP UNIT has neither NO_FLUSH nor a POWER CONDITION MODIFIER. */
interface StartStopFields {
  immed: boolean; powerConditionModifier?: number; powerCondition: number; noFlush?: boolean; loej: boolean; start: boolean;
}

/**
 * START STOP UNIT (SBC-4). POWER CONDITION other than START_VALID changes only the power
 * condition, which this emulation does not model (GOOD); START and LOEJ are then ignored.
 * START_VALID: START 1 starts the unit, START 0 stops it (the pipeline answers NOT READY until
 * started), flushing the cache first unless NO_FLUSH. LOEJ on a non-removable disk names a
 * medium that cannot be loaded or ejected: INVALID FIELD IN CDB. On a removable one LOEJ with
 * START 0 ejects the medium and with START 1 loads it; without LOEJ the medium stays ready;
 * either is MEDIUM REMOVAL PREVENTED while any I_T nexus holds PREVENT ALLOW MEDIUM REMOVAL
 * (SBC-4 5.x: the medium stays as it is). A load tells the other I_T nexuses NOT READY TO
 * READY CHANGE, MEDIUM MAY HAVE CHANGED (SPC-4 5.14). A unit with a tray (MMC-6 START STOP UNIT)
 * opens it on eject and closes it on load; the load finds a medium only when the store holds one
 * (an empty drive stays MEDIUM NOT PRESENT - TRAY CLOSED).
 */
export const execStartStopUnit: Exec<StartStopFields> = async ctx => {
  const { lu, f } = ctx;
  // A removable-medium drive takes every POWER CONDITION value as a power request it does not
  // model (MMC defines values SBC reserves, e.g. 5h SLEEP); a fixed disk refuses SBC's reserved
  // ones. Either way a power condition leaves the medium where it is.
  if (!lu.removable && !POWER_CONDITIONS.has(f.powerCondition)) return invalidFieldOf(ctx.def, 'powerCondition');
  if (f.powerCondition !== PowerCondition.START_VALID) return GOOD;
  if (f.loej && !lu.removable) return invalidFieldOf(ctx.def, 'loej');
  if (f.loej && lu.preventRemoval.size > 0) return check(SENSE.MEDIUM_REMOVAL_PREVENTED);
  if (f.start) {
    lu.stopped = false;
    if (f.loej && lu.trayOpen !== undefined) lu.trayOpen = false;
    if (f.loej && !lu.mediumPresent && lu.backstore.sizeBytes > 0n) {
      lu.mediumPresent = true;
      lu.raiseUa(SENSE.NOT_READY_TO_READY_CHANGE, ctx.nexus.id);
    }
    return GOOD;
  }
  const flush = f.noFlush || !lu.mediumPresent ? Promise.resolve() : lu.backstore.flush();
  // A removable unit's readiness is its medium's presence: STOP without LOEJ only flushes, the
  // medium stays ready (libiscsi StartStopUnit.NoLoej).
  if (f.loej) {
    lu.mediumPresent = false; lu.stopped = true;
    if (lu.trayOpen !== undefined) lu.trayOpen = true;
  } else if (!lu.removable) lu.stopped = true;
  if (f.immed) {
    flush.catch(() => undefined);
    return GOOD;
  }
  try {
    await flush;
  } catch (e) {
    return senseFromErrno(e, 'write');
  }
  return GOOD;
};

/** PREVENT ALLOW MEDIUM REMOVAL: PREVENT is held per I_T nexus; disks accept both values. */
export const execPreventAllowMediumRemoval: Exec<{ prevent: boolean }> = ctx => {
  if (ctx.f.prevent) ctx.lu.preventRemoval.add(ctx.nexus.id);
  else ctx.lu.preventRemoval.delete(ctx.nexus.id);
  return GOOD;
};

// --- READ DEFECT DATA ------------------------------------------------------------------------

interface DefectFields { reqPlist: boolean; reqGlist: boolean; format: number }

/**
 * READ DEFECT DATA(10) (SBC-4): an emulated medium has no defects. The header says the requested
 * lists are valid (PLISTV/GLISTV as requested) and empty, in the requested format.
 */
export const execReadDefectData10: Exec<DefectFields> = ctx => {
  const b = Buffer.alloc(4);
  // byte 1: PLISTV (4), GLISTV (3), DEFECT LIST FORMAT (2..0); bytes 2..3 DEFECT LIST LENGTH 0
  b[1] = (ctx.f.reqPlist ? 0x10 : 0) | (ctx.f.reqGlist ? 0x08 : 0) | (ctx.f.format & 0x07);
  return good(b);
};

/** READ DEFECT DATA(12) (SBC-4): 8-byte header; bytes 2..3 GENERATION CODE 0, 4..7 length 0. */
export const execReadDefectData12: Exec<DefectFields> = ctx => {
  const b = Buffer.alloc(8);
  b[1] = (ctx.f.reqPlist ? 0x10 : 0) | (ctx.f.reqGlist ? 0x08 : 0) | (ctx.f.format & 0x07);
  return good(b);
};

/** Every SBC-4 row with its execute step. */
export const sbcBindings: Binding[] = [
  bind(D.READ_CAPACITY_10, execReadCapacity10),
  bind(D.READ_CAPACITY_16, execReadCapacity16),
  ...rwBindings,
  bind(D.PRE_FETCH_10, execPreFetch),
  bind(D.PRE_FETCH_16, execPreFetch),
  bind(D.SYNCHRONIZE_CACHE_10, execSynchronizeCache),
  bind(D.SYNCHRONIZE_CACHE_16, execSynchronizeCache),
  ...provisioningBindings,
  bind(D.START_STOP_UNIT, execStartStopUnit),
  bind(D.PREVENT_ALLOW_MEDIUM_REMOVAL, execPreventAllowMediumRemoval),
  bind(D.READ_DEFECT_DATA_10, execReadDefectData10),
  bind(D.READ_DEFECT_DATA_12, execReadDefectData12),
  ...sanitizeBindings,
];

/**
 * The rows a fully provisioned LU answers: no UNMAP (LBPU = 0) and no SANITIZE BLOCK ERASE
 * (there is nothing to deallocate; WABEREQ 0).
 */
export const sbcThickBindings: Binding[] = sbcBindings.filter(b => b.def !== D.UNMAP && b.def !== D.SANITIZE_BLOCK_ERASE);
