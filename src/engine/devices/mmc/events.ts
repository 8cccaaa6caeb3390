import { Decoded, invalidFieldOf } from '../../cdb/dsl';
import { GET_EVENT_STATUS_NOTIFICATION } from '../../cdb/defs/mmc';
import { good, Outcome } from '../../result';
import { ExecContext, LuView } from '../../types';

/**
 * GET EVENT STATUS NOTIFICATION (MMC-6), polled only, with the operational change, media and
 * device busy classes. Events of a unit are reported once to each I_T nexus: every nexus that
 * polls after a change learns of it (a generation per class, and per nexus the generation it
 * has seen), like a unit attention, without the engine keeping a list of nexuses.
 */

/** MMC-6: NOTIFICATION CLASS (the header's field; its bit in the request field). */
export enum NotificationClass {
  OPERATIONAL_CHANGE = 1,
  POWER_MANAGEMENT = 2,
  EXTERNAL_REQUEST = 3,
  MEDIA = 4,
  MULTIPLE_HOSTS = 5,
  DEVICE_BUSY = 6,
}

/** The classes this drive reports, in priority order (lower class first, MMC-6). */
const CLASSES = [NotificationClass.OPERATIONAL_CHANGE, NotificationClass.MEDIA, NotificationClass.DEVICE_BUSY] as const;
/** SUPPORTED EVENT CLASSES (header byte 3): a bit per class. */
export const SUPPORTED_EVENT_CLASSES = CLASSES.reduce((m, c) => m | (1 << c), 0);

/** MMC-6: media event codes. */
export enum MediaEvent { NO_CHANGE = 0x0, EJECT_REQUEST = 0x1, NEW_MEDIA = 0x2, MEDIA_REMOVAL = 0x3, MEDIA_CHANGED = 0x4 }

/** MMC-6: operational events;: operational changes. */
export enum OperationalEvent { NO_CHANGE = 0x0, CHANGE_REQUESTED = 0x1, CHANGE_OCCURRED = 0x2 }
export enum OperationalChange { NO_CHANGE = 0x0000, FEATURE_CHANGE = 0x0001 }

interface Pending { gen: number; event: number }
interface Seen { media: number; operational: number }

/** A unit's events: the last one of each class and how many there have been. */
class UnitEvents {
  media: Pending = { gen: 0, event: MediaEvent.NO_CHANGE };
  operational: Pending = { gen: 0, event: OperationalEvent.NO_CHANGE };
  readonly seen = new Map<string, Seen>();

  seenBy(itKey: string): Seen {
    let s = this.seen.get(itKey);
    // A nexus that first polls now knows the medium as it is: nothing earlier is owed to it.
    if (!s) this.seen.set(itKey, (s = { media: this.media.gen, operational: this.operational.gen }));
    return s;
  }
}

const byUnit = new WeakMap<LuView, UnitEvents>();

function eventsOf(lu: LuView): UnitEvents {
  let e = byUnit.get(lu);
  if (!e) byUnit.set(lu, (e = new UnitEvents()));
  return e;
}

/**
 * A medium came or went (START STOP UNIT, or the host changed it). The current profile changes
 * with it, which is also an operational change (MMC-6: FEATURE CHANGE).
 */
export function mediaChanged(lu: LuView, event: MediaEvent.NEW_MEDIA | MediaEvent.MEDIA_REMOVAL): void {
  const e = eventsOf(lu);
  e.media = { gen: e.media.gen + 1, event };
  e.operational = { gen: e.operational.gen + 1, event: OperationalEvent.CHANGE_OCCURRED };
}

/** MMC-6: the 4-byte event descriptor of one class, consuming its event. */
function descriptor(lu: LuView, itKey: string, cls: NotificationClass, take: boolean): { pending: boolean; bytes: number[] } {
  const e = eventsOf(lu);
  const seen = e.seenBy(itKey);
  switch (cls) {
    case NotificationClass.OPERATIONAL_CHANGE: {
      const pending = e.operational.gen > seen.operational;
      if (pending && take) seen.operational = e.operational.gen;
      const change = pending ? OperationalChange.FEATURE_CHANGE : OperationalChange.NO_CHANGE;
      // byte 0 OPERATIONAL EVENT; byte 1 PERSISTENT PREVENTED (7) | OPERATIONAL STATUS 0h
      // (available); bytes 2..3 OPERATIONAL CHANGE
      return { pending, bytes: [pending ? e.operational.event : OperationalEvent.NO_CHANGE, 0x00, change >> 8, change & 0xff] };
    }
    case NotificationClass.MEDIA: {
      const pending = e.media.gen > seen.media;
      if (pending && take) seen.media = e.media.gen;
      // byte 0 MEDIA EVENT CODE; byte 1 MEDIA PRESENT (1) | DOOR OR TRAY OPEN (0); bytes 2..3
      // START SLOT and END SLOT (0: not a changer)
      const status = (lu.mediumPresent ? 0x02 : 0) | (lu.trayOpen ? 0x01 : 0);
      return { pending, bytes: [pending ? e.media.event : MediaEvent.NO_CHANGE, status, 0, 0] };
    }
    default:
      // Device busy: byte 0 EVENT 0h (no event), byte 1 BUSY STATUS 0h (no event), bytes 2..3 TIME 0.
      return { pending: false, bytes: [0, 0, 0, 0] };
  }
}

/**
 * MMC-6: the highest-priority requested class with an event is reported and its event
 * cleared; with none pending, the highest-priority requested class says "no change". A request
 * naming no supported class gets the header alone with NEA (no event available) set.
 */
export function mmcGetEventStatusNotification(ctx: ExecContext<Decoded<typeof GET_EVENT_STATUS_NOTIFICATION.fields>>): Outcome {
  const { lu, nexus, f } = ctx;
  // MMC-6: a drive that does not support asynchronous operation refuses Polled = 0.
  if (!f.polled) return invalidFieldOf(ctx.def, 'polled');
  const requested = CLASSES.filter(c => (f.notificationClassRequest & (1 << c)) !== 0);
  if (requested.length === 0) {
    // bytes 0..1 EVENT DESCRIPTOR LENGTH 2 (the rest of the header); byte 2 NEA | class 0
    return good(Buffer.from([0x00, 0x02, 0x80, SUPPORTED_EVENT_CLASSES]));
  }
  const cls = requested.find(c => descriptor(lu, nexus.itKey, c, false).pending) ?? requested[0];
  const d = descriptor(lu, nexus.itKey, cls, true);
  // bytes 0..1 EVENT DESCRIPTOR LENGTH: bytes after it (2 of header, 4 of descriptor); byte 2
  // NEA 0 | NOTIFICATION CLASS; byte 3 SUPPORTED EVENT CLASSES
  return good(Buffer.from([0x00, 0x06, cls, SUPPORTED_EVENT_CLASSES, ...d.bytes]));
}
