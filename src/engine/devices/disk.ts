import { coreBindings } from '../core-commands';
import { prBindings } from '../pr-commands';
import { sbcBindings, sbcThickBindings } from '../sbc';
import { spcBindings } from '../spc';
import { xcopyBindings } from '../xcopy';
import { PeripheralType } from '../spec/status';
import { Backstore, DeviceType, deviceType } from '../types';
import { deviceTypes } from '../device-registry';
import { ModePages, SBC_MODE_PAGES, SPC_MODE_PAGES } from '../mode-page-store';
import { SBC_VPD_PAGES, SPC_VPD_PAGES } from '../vpd';

/**
 * The direct-access block device (SBC-4 disk): SPC-4 primary commands, the engine core's rows and
 * the SBC-4 command set, over any backstore, with the SPC-4 copy manager (EXTENDED COPY).
 *
 * Two tables, because REPORT SUPPORTED OPERATION CODES reads the table: UNMAP exists only where
 * logical block provisioning offers it (LBPU = 1, thin LUs). `DISK` is the full table; a thick
 * LU's UNMAP is refused by its handler with INVALID COMMAND OPERATION CODE either way, and
 * `DISK_THICK` leaves the row out so RSOC does not list it.
 */
/** SPC-4 pages and the SBC-4 block device pages (B0h, B1h, B2h). */
const DISK_VPD_PAGES = [...SPC_VPD_PAGES, ...SBC_VPD_PAGES];
/** SPC-4 pages and the SBC-4 read-write error recovery and caching pages. */
const DISK_MODE_PAGES = [...SBC_MODE_PAGES, ...SPC_MODE_PAGES];

export const DISK: DeviceType = deviceType(PeripheralType.DISK, false, [...coreBindings, ...spcBindings, ...sbcBindings, ...prBindings, ...xcopyBindings], DISK_VPD_PAGES);

export const DISK_THICK: DeviceType = deviceType(PeripheralType.DISK, false, [...coreBindings, ...spcBindings, ...sbcThickBindings, ...prBindings, ...xcopyBindings], DISK_VPD_PAGES);

/** The same tables with a removable medium (INQUIRY RMB = 1; START STOP UNIT LOEJ loads and ejects). */
export const DISK_REMOVABLE: DeviceType = { ...DISK, removable: true };
export const DISK_THICK_REMOVABLE: DeviceType = { ...DISK_THICK, removable: true };

/** The disk device type for a unit: thin units get UNMAP, fully provisioned ones do not. */
export function diskDeviceType(thin: boolean, removable = false): DeviceType {
  if (removable) return thin ? DISK_REMOVABLE : DISK_THICK_REMOVABLE;
  return thin ? DISK : DISK_THICK;
}

/** SBC-4 disks register themselves: the engine core finds them by name only. */
deviceTypes.register({
  name: 'disk',
  peripheralType: PeripheralType.DISK,
  table: DISK.table,
  forUnit: cfg => diskDeviceType(cfg.thin, cfg.removable === true),
  // SBC-4 caching page: WCE follows the store's cache mode; RCD is set where reads bypass a cache (O_DIRECT).
  modePages: (store: Backstore) => new ModePages({
    pages: DISK_MODE_PAGES, writeBack: store.writeBack, readCacheDisabled: store.kind === 'block',
  }),
});
