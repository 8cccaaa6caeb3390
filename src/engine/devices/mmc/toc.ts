import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { READ_TOC_PMA_ATIP } from '../../cdb/defs/mmc';
import { good, Outcome } from '../../result';
import { ExecContext, LuView } from '../../types';
import { ADR_CONTROL_DATA_TRACK, currentProfile, lbaToMsf, LEAD_OUT, Profile, SESSION, TRACK } from './medium';

/**
 * READ TOC/PMA/ATIP (MMC-6) of an image: one session holding one data track from LBA 0,
 * then the lead-out at the capacity. Formats 0000b (formatted TOC), 0001b (multi-session
 * information) and, for CD media, 0010b (raw TOC); a recordable medium's PMA and ATIP do not exist.
 */

/** MMC-6: FORMAT. */
export enum TocFormat { FORMATTED_TOC = 0x0, MULTI_SESSION = 0x1, RAW_TOC = 0x2 }

type Fields = Decoded<typeof READ_TOC_PMA_ATIP.fields>;

/** A 4-byte address: an LBA, or with MSF reserved, M, S, F (MMC-6). */
function address(lba: number, msf: boolean): number[] {
  if (!msf) return [lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff];
  return [0, ...lbaToMsf(lba)];
}

/** Data length (bytes after the field) and the two header bytes, then the descriptors. */
function withHeader(first: number, last: number, descriptors: number[]): Buffer {
  const len = 2 + descriptors.length;
  return Buffer.from([len >> 8, len & 0xff, first, last, ...descriptors]);
}

/** MMC-6: a track descriptor (8 bytes). */
function trackDescriptor(track: number, lba: number, msf: boolean): number[] {
  // byte 0 reserved; byte 1 ADR | CONTROL; byte 2 TRACK NUMBER; byte 3 reserved; bytes 4..7 address
  return [0, ADR_CONTROL_DATA_TRACK, track, 0, ...address(lba, msf)];
}

/**
 * Format 0000b: the descriptors of the tracks from TRACK/SESSION NUMBER on (0 is the first
 * track), then the lead-out; AAh asks for the lead-out alone. A number past the last track is
 * INVALID FIELD IN CDB.
 */
function formattedToc(ctx: ExecContext<Fields>, lu: LuView): Outcome {
  const { trackSessionNumber: n, msf } = ctx.f;
  if (n > TRACK && n !== LEAD_OUT) return invalidFieldOf(ctx.def, 'trackSessionNumber');
  const leadOut = lu.capacityBlocks;
  const d = n === LEAD_OUT ? [] : trackDescriptor(TRACK, 0, msf);
  return good(withHeader(TRACK, TRACK, [...d, ...trackDescriptor(LEAD_OUT, leadOut, msf)]));
}

/** Format 0001b: the first track of the last complete session. */
function multiSession(ctx: ExecContext<Fields>): Outcome {
  // bytes 2..3 FIRST and LAST COMPLETE SESSION NUMBER; the descriptor's address is the first
  // track's start in the last session
  return good(withHeader(SESSION, SESSION, trackDescriptor(TRACK, 0, ctx.f.msf)));
}

/**
 * Format 0010b: the raw TOC of session TRACK/SESSION NUMBER and later ones: the
 * points A0h (first track, disc type), A1h (last track), A2h (lead-out) and the track itself,
 * each an 11-byte descriptor with MSF addresses whatever the MSF bit says.
 */
function rawToc(ctx: ExecContext<Fields>, lu: LuView): Outcome {
  if (ctx.f.trackSessionNumber > SESSION) return invalidFieldOf(ctx.def, 'trackSessionNumber');
  // byte 0 SESSION NUMBER; 1 ADR | CONTROL; 2 TNO 0 (the lead-in); 3 POINT; 4..6 MIN SEC FRAME
  // (the absolute time of the Q sub-channel, 0); 7 ZERO; 8..10 PMIN PSEC PFRAME
  const point = (p: number, pmsf: readonly number[]): number[] => [SESSION, ADR_CONTROL_DATA_TRACK, 0, p, 0, 0, 0, 0, ...pmsf];
  /** MMC-6: disc type 00h in PSEC of A0h: CD-DA or CD-ROM. */
  const CD_ROM_DISC = 0x00;
  return good(withHeader(SESSION, SESSION, [
    ...point(0xa0, [TRACK, CD_ROM_DISC, 0]),
    ...point(0xa1, [TRACK, 0, 0]),
    ...point(0xa2, lbaToMsf(lu.capacityBlocks)),
    ...point(TRACK, lbaToMsf(0)),
  ]));
}

export function mmcReadTocPmaAtip(ctx: ExecContext<Fields>): Outcome {
  const { lu, f } = ctx;
  // MMC-6: with FORMAT 0, SFF-8020 initiators give the format in byte 9 bits 7..6.
  const format = f.format !== 0 ? f.format : f.legacyFormat;
  switch (format) {
    case TocFormat.FORMATTED_TOC: return formattedToc(ctx, lu);
    case TocFormat.MULTI_SESSION: return multiSession(ctx);
    case TocFormat.RAW_TOC:
      // MMC-6: the raw TOC exists on CD media only.
      if (currentProfile(lu) !== Profile.CD_ROM) return invalidFieldOf(ctx.def, 'format');
      return rawToc(ctx, lu);
    default:
      return invalidFieldOf(ctx.def, f.format !== 0 ? 'format' : 'legacyFormat');
  }
}
