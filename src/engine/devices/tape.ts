import { coreBindings } from '../core-commands';
import { prBindings } from '../pr-commands';
import { spcBindings } from '../spc';
import { execPreventAllowMediumRemoval } from '../sbc';
import * as S from '../cdb/defs/ssc';
import { REQUEST_SENSE } from '../cdb/defs/core';
import { PREVENT_ALLOW_MEDIUM_REMOVAL } from '../cdb/defs/sbc';
import { PeripheralType } from '../spec/status';
import { Backstore, bind, Binding, DeviceType, deviceType } from '../types';
import { deviceTypes } from '../device-registry';
import { ModePages, SPC_MODE_PAGES } from '../mode-page-store';
import { SPC_VPD_PAGES } from '../vpd';
import { TapeBackstore } from '../backstores/tape';
import { sscRead16, sscRead6, sscWrite16, sscWrite6, sscWriteFilemarks16, sscWriteFilemarks6 } from './ssc/io';
import { sscLocate10, sscLocate16, sscReadPosition, sscRewind, sscSpace16, sscSpace6 } from './ssc/position';
import { changeMedium, loadedCartridge, sscErase6, sscLoadUnload } from './ssc/medium';
import {
  SEQUENTIAL_ACCESS_DEVICE_CHARACTERISTICS, SEQUENTIAL_ACCESS_DEVICE_LOG, sscReadBlockLimits, sscReportDensitySupport,
  sscRequestSense, TAPE_ALERT_LOG,
} from './ssc/reports';
import { SSC_MODE_PAGES, tapeModeMedium } from './ssc/mode';

/**
 * The tape drive (SSC-4 sequential-access device, peripheral device type 01h, removable): SPC-4
 * primary commands, the engine core's rows and the SSC-4 stream commands, over a cartridge file
 * (backstores/tape-cartridge.ts, docs/tape-format.md) that the drive holds in a TapeBackstore.
 * Setmarks, partitions beyond the one and compression are not claimed.
 */

const sscBindings: Binding[] = [
  bind(S.READ_6, sscRead6),
  bind(S.WRITE_6, sscWrite6),
  bind(S.WRITE_FILEMARKS_6, sscWriteFilemarks6),
  bind(S.SPACE_6, sscSpace6),
  bind(S.REWIND, sscRewind),
  bind(S.LOAD_UNLOAD, sscLoadUnload),
  bind(S.LOCATE_10, sscLocate10),
  bind(S.READ_16, sscRead16),
  bind(S.WRITE_16, sscWrite16),
  bind(S.WRITE_FILEMARKS_16, sscWriteFilemarks16),
  bind(S.SPACE_16, sscSpace16),
  bind(S.LOCATE_16, sscLocate16),
  bind(S.READ_POSITION, sscReadPosition),
  bind(S.ERASE_6, sscErase6),
  bind(S.READ_BLOCK_LIMITS, sscReadBlockLimits),
  bind(S.REPORT_DENSITY_SUPPORT, sscReportDensitySupport),
  bind(PREVENT_ALLOW_MEDIUM_REMOVAL, execPreventAllowMediumRemoval),
];

/** The core rows, REQUEST SENSE reporting the drive's stream state. */
const tapeCoreBindings: Binding[] = coreBindings.map(b => (b.def === REQUEST_SENSE ? bind(REQUEST_SENSE, sscRequestSense) : b));

export const TAPE: DeviceType = {
  ...deviceType(PeripheralType.TAPE, true, [...tapeCoreBindings, ...spcBindings, ...sscBindings, ...prBindings],
    [...SPC_VPD_PAGES, SEQUENTIAL_ACCESS_DEVICE_CHARACTERISTICS]),
  logPages: [SEQUENTIAL_ACCESS_DEVICE_LOG, TAPE_ALERT_LOG],
  drive: true,
};

/** Tape drives register themselves as "tape" (handler vtape in the topology). */
deviceTypes.register({
  name: 'tape',
  peripheralType: PeripheralType.TAPE,
  table: TAPE.table,
  forUnit: () => TAPE,
  // The header and block descriptor follow the drive; a unit homed on another engine thread has
  // a placeholder store here and never executes a command on this one.
  modePages: (store: Backstore) => new ModePages({
    pages: [...SPC_MODE_PAGES, ...SSC_MODE_PAGES], writeBack: false,
    medium: store instanceof TapeBackstore ? tapeModeMedium(store) : undefined,
  }),
  changeMedium,
  mediumOf: loadedCartridge,
});
