import { SENSE, SenseCondition } from './spec/asc';
import { LuView } from './types';

/**
 * The NOT READY condition of a unit whose medium is absent (SPC-4 table D.1, MMC-6): a
 * unit with a tray says whether it is open or closed (3Ah/02h, 3Ah/01h), so that an initiator
 * can tell an open drive from an empty one (Linux sr's CDS_TRAY_OPEN / CDS_NO_DISC); any other
 * unit says MEDIUM NOT PRESENT.
 */
export function mediumNotPresent(lu: Pick<LuView, 'trayOpen'>): SenseCondition {
  if (lu.trayOpen === undefined) return SENSE.MEDIUM_NOT_PRESENT;
  return lu.trayOpen ? SENSE.MEDIUM_NOT_PRESENT_TRAY_OPEN : SENSE.MEDIUM_NOT_PRESENT_TRAY_CLOSED;
}
