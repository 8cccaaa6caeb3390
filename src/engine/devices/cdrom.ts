import { coreBindings } from '../core-commands';
import { prBindings } from '../pr-commands';
import { spcBindings } from '../spc';
import { execPreventAllowMediumRemoval, execReadCapacity10, execStartStopUnit } from '../sbc';
import { execRead } from '../sbc-rw';
import { spcModeSense10, spcModeSense6 } from '../mode-pages';
import * as M from '../cdb/defs/mmc';
import { MODE_SENSE_10, MODE_SENSE_6 } from '../cdb/defs/spc';
import { PREVENT_ALLOW_MEDIUM_REMOVAL } from '../cdb/defs/sbc';
import { PeripheralType } from '../spec/status';
import { SENSE } from '../spec/asc';
import { NexusError, Outcome } from '../result';
import { Backstore, bind, Binding, DeviceType, deviceType, Exec, ExecContext, LuView } from '../types';
import { deviceTypes } from '../device-registry';
import { ModePageCode, ModePageDef, ModePages, SPC_MODE_PAGES } from '../mode-page-store';
import { SPC_VPD_PAGES } from '../vpd';
import { IsoBackstore } from '../backstores/iso';
import { mediaChanged, MediaEvent, mmcGetEventStatusNotification } from './mmc/events';
import { mmcGetConfiguration } from './mmc/configuration';
import { mmcReadTocPmaAtip } from './mmc/toc';
import { mmcMechanismStatus, mmcReadDiscInformation, mmcReadTrackInformation } from './mmc/disc';
import { CD_SPEED_KBPS, mmcGetPerformance, mmcSetCdSpeed } from './mmc/performance';
import { mmcReadDiscStructure } from './mmc/structure';

/**
 * The CD/DVD-ROM drive (MMC-6, read-only profiles): SPC-4 primary commands, the engine core's
 * rows and the MMC-6 commands a Linux, Windows or VMware initiator sends to a drive, over an
 * ISO image (backstores/iso.ts). Peripheral device type 05h with a removable medium in a tray.
 *
 * Writes: the drive has no writable profile, so MMC-6 gives it no write command at all: WRITE(10)
 * and the rest are INVALID COMMAND OPERATION CODE (their rows are not in the table), and MODE
 * SELECT cannot make it writable.
 *
 * Medium handling reuses the engine's removable-medium support (sbc.ts START STOP UNIT and
 * PREVENT ALLOW MEDIUM REMOVAL, the pipeline's readiness check); this module adds what a drive
 * reports on top of it: media events and the tray.
 */

/** The tray state and the lock (PREVENT) are in page 2Ah byte 6. */
const CAPABILITIES_MECHANISM_BYTE = 6;
const LOCK_STATE = 0x02;

/**
 * MMC-6 Annex (legacy) CD/DVD capabilities and mechanical status page 2Ah, 32 bytes, PAGE LENGTH
 * 1Eh, no write speed descriptors. Nothing in it is changeable.
 */
const CAPABILITIES_PAGE: ModePageDef = {
  code: ModePageCode.MM_CAPABILITIES_AND_MECHANICAL_STATUS, subpage: 0,
  defaults: () => {
    const p = new Uint8Array(32);
    p[0] = ModePageCode.MM_CAPABILITIES_AND_MECHANICAL_STATUS; // PS 0 | PAGE CODE
    p[1] = p.length - 2; // PAGE LENGTH
    // byte 2: DVD-RAM READ 0 | DVD-R READ 0 | DVD-ROM READ 1 | METHOD 2 0 | CD-RW READ 1 | CD-R READ 1
    p[2] = 0x08 | 0x02 | 0x01;
    p[3] = 0x00; // no write capability of any kind
    // byte 4: BUFFER 0 | MULTI SESSION 1 | MODE 2 FORM 2 0 | MODE 2 FORM 1 0 | ports 0 | AUDIO PLAY 0
    p[4] = 0x40;
    p[5] = 0x00; // no CD-DA, sub-channel or bar code reads
    // byte 6: LOADING MECHANISM TYPE 001b (tray) | EJECT 1 | PREVENT JUMPER 0 | LOCK STATE | LOCK 1
    p[CAPABILITIES_MECHANISM_BYTE] = (0b001 << 5) | 0x08 | 0x01;
    // bytes 8..9 MAXIMUM READ SPEED and 14..15 CURRENT READ SPEED (obsolete, kB/s; Linux sr
    // divides them by 176 for the speed it shows)
    p[8] = CD_SPEED_KBPS >> 8; p[9] = CD_SPEED_KBPS & 0xff;
    p[14] = CD_SPEED_KBPS >> 8; p[15] = CD_SPEED_KBPS & 0xff;
    return p; // volume levels, buffer size, write speeds and descriptor count 0
  },
  changeable: (() => { const m = new Uint8Array(32); m[0] = ModePageCode.MM_CAPABILITIES_AND_MECHANICAL_STATUS; m[1] = 30; return m; })(),
};

/** SPC-4 pages and the capabilities page. */
const CDROM_MODE_PAGES = [...SPC_MODE_PAGES, CAPABILITIES_PAGE];

/** MODE SENSE sees LOCK STATE as it is when asked (any I_T nexus's PREVENT locks the tray). */
function refreshLockState(lu: LuView): void {
  const cur = lu.modes.values(CAPABILITIES_PAGE, 0);
  const next = Uint8Array.from(cur);
  next[CAPABILITIES_MECHANISM_BYTE] = (cur[CAPABILITIES_MECHANISM_BYTE] & ~LOCK_STATE) | (lu.preventRemoval.size > 0 ? LOCK_STATE : 0);
  lu.modes.set(CAPABILITIES_PAGE.code, CAPABILITIES_PAGE.subpage, next);
}

function withLockState<F>(exec: Exec<F>): Exec<F> {
  return ctx => { refreshLockState(ctx.lu); return exec(ctx); };
}

/**
 * START STOP UNIT (MMC-6): the engine's removable-medium handler, plus the media event an eject
 * or a load leaves for GET EVENT STATUS NOTIFICATION.
 */
async function mmcStartStopUnit(ctx: ExecContext<{ immed: boolean; powerCondition: number; loej: boolean; start: boolean }>): Promise<Outcome> {
  const before = ctx.lu.mediumPresent;
  const out = await execStartStopUnit(ctx);
  const after = ctx.lu.mediumPresent;
  if (before !== after) mediaChanged(ctx.lu, after ? MediaEvent.NEW_MEDIA : MediaEvent.MEDIA_REMOVAL);
  return out;
}

const mmcBindings: Binding[] = [
  bind(M.READ_CAPACITY, execReadCapacity10),
  bind(M.READ_10, execRead),
  bind(M.READ_12, execRead),
  bind(M.START_STOP_UNIT, mmcStartStopUnit),
  bind(PREVENT_ALLOW_MEDIUM_REMOVAL, execPreventAllowMediumRemoval),
  bind(M.READ_TOC_PMA_ATIP, mmcReadTocPmaAtip),
  bind(M.GET_CONFIGURATION, mmcGetConfiguration),
  bind(M.GET_EVENT_STATUS_NOTIFICATION, mmcGetEventStatusNotification),
  bind(M.READ_DISC_INFORMATION, mmcReadDiscInformation),
  bind(M.READ_TRACK_INFORMATION, mmcReadTrackInformation),
  bind(M.MECHANISM_STATUS, mmcMechanismStatus),
  bind(M.SET_CD_SPEED, mmcSetCdSpeed),
  bind(M.GET_PERFORMANCE, mmcGetPerformance),
  bind(M.READ_DISC_STRUCTURE, mmcReadDiscStructure),
];

/** The SPC-4 rows, MODE SENSE reporting the lock state of the moment. */
const cdromSpcBindings: Binding[] = spcBindings.map(b =>
  b.def === MODE_SENSE_6 ? bind(MODE_SENSE_6, withLockState(spcModeSense6))
    : b.def === MODE_SENSE_10 ? bind(MODE_SENSE_10, withLockState(spcModeSense10)) : b);

export const CDROM: DeviceType = {
  ...deviceType(PeripheralType.CDROM, true, [...coreBindings, ...cdromSpcBindings, ...mmcBindings, ...prBindings], SPC_VPD_PAGES),
  tray: true,
};

function isoOf(lu: LuView): IsoBackstore {
  if (!(lu.backstore instanceof IsoBackstore)) throw new NexusError('ERR_TOPOLOGY', `device "${lu.name}" has no ISO image drive (handler vcdrom)`);
  return lu.backstore;
}

/**
 * The host changes the medium (the control plane's eject / insert): the tray opens and the
 * medium goes, or a new medium goes in and the tray closes. Every I_T nexus then learns of it:
 * a media event (NEW MEDIA or MEDIA REMOVAL) and, for a new medium, the unit attention NOT READY
 * TO READY CHANGE, MEDIUM MAY HAVE CHANGED (MMC-6, SPC-4 5.14). A locked tray stays shut.
 */
export async function changeMedium(lu: LuView, path: string | undefined): Promise<void> {
  const iso = isoOf(lu);
  if (lu.preventRemoval.size > 0 && (lu.mediumPresent || iso.hasMedium)) {
    throw new NexusError('ERR_MEDIUM_REMOVAL_PREVENTED', `${lu.name}: ${SENSE.MEDIUM_REMOVAL_PREVENTED.name}`);
  }
  if (path === undefined) {
    const had = lu.mediumPresent;
    await iso.remove();
    lu.mediumPresent = false;
    lu.trayOpen = true;
    if (had) mediaChanged(lu, MediaEvent.MEDIA_REMOVAL);
    return;
  }
  await iso.insert(path);
  lu.trayOpen = false;
  lu.stopped = false;
  lu.mediumPresent = iso.sizeBytes > 0n;
  if (!lu.mediumPresent) return;
  mediaChanged(lu, MediaEvent.NEW_MEDIA);
  lu.raiseUa(SENSE.NOT_READY_TO_READY_CHANGE);
}

/** CD/DVD-ROM drives register themselves as "cdrom" (handler vcdrom in the topology). */
deviceTypes.register({
  name: 'cdrom',
  peripheralType: PeripheralType.CDROM,
  table: CDROM.table,
  forUnit: () => CDROM,
  modePages: (store: Backstore) => new ModePages({ pages: CDROM_MODE_PAGES, writeBack: store.writeBack }),
  changeMedium,
});
