import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { GET_PERFORMANCE, SET_CD_SPEED } from '../../cdb/defs/mmc';
import { GOOD, good, Outcome } from '../../result';
import { ExecContext } from '../../types';
import { currentProfile, Profile } from './medium';

/**
 * SET CD SPEED (MMC-6) and GET PERFORMANCE (MMC-6) of the real-time streaming feature.
 * An image is read at whatever speed the host gives, so the drive reports one nominal speed per
 * medium: 24x for a CD (MMC-6 uses 176 kB/s for 1x), 8x for a DVD (1385 kB/s for 1x).
 */

export const CD_SPEED_KBPS = 24 * 176;
export const DVD_SPEED_KBPS = 8 * 1385;

/** MMC-6: ROTATIONAL CONTROL 00b CLV and CAV, 01b pure CAV; the rest are reserved. */
export enum RotationalControl { CLV_AND_NON_PURE_CAV = 0b00, PURE_CAV = 0b01 }

/** Any requested speed is taken: the drive picks the nearest it has (MMC-6), its only one. */
export function mmcSetCdSpeed(ctx: ExecContext<Decoded<typeof SET_CD_SPEED.fields>>): Outcome {
  if (ctx.f.rotationalControl > RotationalControl.PURE_CAV) return invalidFieldOf(ctx.def, 'rotationalControl');
  return GOOD;
}

/** MMC-6: TYPE 00h performance data, 03h write speed descriptors. */
export enum PerformanceType { PERFORMANCE = 0x00, WRITE_SPEED = 0x03 }

/** DATA TYPE of TYPE 00h (MMC-6): WRITE (bit 2), EXCEPT (bits 1..0). */
const WRITE = 0x04;
const EXCEPT_MASK = 0x03;
enum Except { NOMINAL = 0b00, ALL_WITH_EXCEPTIONS = 0b01, EXCEPTIONS_ONLY = 0b10 }

export function mmcGetPerformance(ctx: ExecContext<Decoded<typeof GET_PERFORMANCE.fields>>): Outcome {
  const { lu, f } = ctx;
  const descriptors: number[][] = [];
  let headerByte4 = 0;
  switch (f.type) {
    case PerformanceType.PERFORMANCE: {
      const except = f.dataType & EXCEPT_MASK;
      if (f.dataType & ~(WRITE | EXCEPT_MASK) || except > Except.EXCEPTIONS_ONLY) return invalidFieldOf(ctx.def, 'dataType');
      // byte 4 of the header echoes WRITE and EXCEPT
      headerByte4 = f.dataType & (WRITE | EXCEPT_MASK);
      // A drive that does not write has no write performance; a constant speed has no exceptions.
      if (!(f.dataType & WRITE) && except !== Except.EXCEPTIONS_ONLY) {
        const kbps = currentProfile(lu) === Profile.DVD_ROM ? DVD_SPEED_KBPS : CD_SPEED_KBPS;
        // MMC-6 nominal performance descriptor: START LBA, START PERFORMANCE (kB/s),
        // END LBA, END PERFORMANCE
        descriptors.push([...be32(0), ...be32(kbps), ...be32(Math.max(0, lu.capacityBlocks - 1)), ...be32(kbps)]);
      }
      break;
    }
    case PerformanceType.WRITE_SPEED:
      // MMC-6: one descriptor per write speed; a read-only drive has none.
      break;
    default:
      return invalidFieldOf(ctx.def, 'type');
  }
  const sent = descriptors.slice(0, f.maximumNumberOfDescriptors).flat();
  // bytes 0..3 PERFORMANCE DATA LENGTH (bytes after the field); byte 4 WRITE | EXCEPT; 5..7 reserved
  return good(Buffer.from([...be32(4 + sent.length), headerByte4, 0, 0, 0, ...sent]));
}

function be32(v: number): number[] { return [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]; }
