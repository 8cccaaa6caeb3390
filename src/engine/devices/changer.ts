import { coreBindings } from '../core-commands';
import { prBindings } from '../pr-commands';
import { spcBindings } from '../spc';
import { execPreventAllowMediumRemoval } from '../sbc';
import * as S from '../cdb/defs/smc';
import { invalidFieldOf } from '../cdb/dsl';
import { PeripheralType } from '../spec/status';
import { SENSE } from '../spec/asc';
import { check, GOOD, good, NexusError } from '../result';
import { Backstore, bind, Binding, DeviceType, deviceType, Exec, LuView } from '../types';
import { deviceTypes, MediumLibrary } from '../device-registry';
import { ModePages, SPC_MODE_PAGES } from '../mode-page-store';
import { SPC_VPD_PAGES } from '../vpd';
import { LibraryStore } from '../backstores/library';
import { ElementType, MEDIUM_TRANSPORT_ADDRESS } from './smc/elements';
import { buildElementStatus } from './smc/element-status';
import { changerModePages } from './smc/mode-pages';
import { Library } from './smc/library';

/**
 * The medium changer (SMC-3, peripheral device type 08h): the robot of a library that moves
 * cartridges between storage slots, import/export (mail) slots and the drives of the same
 * topology. It has no medium of its own; its backstore is the library state (backstores/
 * library.ts), and a drive gets a cartridge through its own personality's changeMedium, with
 * the unit attentions that drive raises. The drives' units are reached directly: placement
 * homes a changer and its drives on one engine thread (workers/placement.ts).
 *
 * Claimed in the device capabilities page (smc/mode-pages.ts) and offered: MOVE MEDIUM between
 * any storage, import/export and data transfer elements; not offered (not in the table, so
 * INVALID COMMAND OPERATION CODE): EXCHANGE MEDIUM, REQUEST VOLUME ELEMENT ADDRESS, SEND VOLUME
 * TAG (volume tags are the topology's bar codes, read by READ ELEMENT STATUS with VOLTAG).
 */

const libraries = new WeakMap<LuView, Library>();

function libraryOf(lu: LuView): Library {
  const lib = libraries.get(lu);
  if (!lib) throw new NexusError('ERR_LIBRARY', `changer "${lu.name}" has no library on this thread`);
  return lib;
}

/**
 * SMC-3 6.11 READ ELEMENT STATUS: the elements of the requested type (or all types) whose
 * address is at least STARTING ELEMENT ADDRESS, at most NUMBER OF ELEMENTS of them, in ascending
 * address order. The library's status is always current (CURDATA changes nothing: there is no
 * inventory scan to avoid).
 */
const smcReadElementStatus: Exec<{
  volTag: boolean; elementTypeCode: number; startingElementAddress: number; numberOfElements: number;
  curData: boolean; dvcid: boolean; allocationLength: number;
}> = ctx => {
  const f = ctx.f;
  if (f.elementTypeCode > ElementType.DATA_TRANSFER) return invalidFieldOf(S.READ_ELEMENT_STATUS, 'elementTypeCode');
  const chosen = libraryOf(ctx.lu).reports()
    .filter(e => (f.elementTypeCode === ElementType.ALL || e.type === f.elementTypeCode) && e.address >= f.startingElementAddress)
    .slice(0, f.numberOfElements);
  return good(buildElementStatus(chosen, { volTag: f.volTag, dvcid: f.dvcid }));
};

/** SMC-3 6.6 MOVE MEDIUM. */
const smcMoveMedium: Exec<{ transportElementAddress: number; sourceAddress: number; destinationAddress: number }> = ctx =>
  libraryOf(ctx.lu).move(ctx.f.transportElementAddress, ctx.f.sourceAddress, ctx.f.destinationAddress);

/** SMC-3 6.2: the library's inventory is known without a scan; nothing to do. */
const smcInitializeElementStatus: Exec<Record<string, never>> = () => GOOD;

/**
 * SMC-3 6.3 INITIALIZE ELEMENT STATUS WITH RANGE: with RANGE one, the starting element must be
 * an element of the library (INVALID ELEMENT ADDRESS otherwise); with RANGE zero every element.
 */
const smcInitializeElementStatusWithRange: Exec<{ fast: boolean; range: boolean; startingElementAddress: number; numberOfElements: number }> = ctx => {
  if (ctx.f.range && !libraryOf(ctx.lu).has(ctx.f.startingElementAddress)) return check(SENSE.INVALID_ELEMENT_ADDRESS);
  return GOOD;
};

/** SMC-3 6.7 POSITION TO ELEMENT: the transport and the destination must exist; the robot has no position to keep. */
const smcPositionToElement: Exec<{ transportElementAddress: number; destinationAddress: number }> = ctx => {
  const lib = libraryOf(ctx.lu);
  // SMC-3 6.7: zero names the default transport, which is also the only one (address 0000h).
  if (ctx.f.transportElementAddress !== MEDIUM_TRANSPORT_ADDRESS) return check(SENSE.INVALID_ELEMENT_ADDRESS);
  if (!lib.has(ctx.f.destinationAddress)) return check(SENSE.INVALID_ELEMENT_ADDRESS);
  return GOOD;
};

const smcBindings: Binding[] = [
  bind(S.INITIALIZE_ELEMENT_STATUS, smcInitializeElementStatus),
  bind(S.INITIALIZE_ELEMENT_STATUS_WITH_RANGE, smcInitializeElementStatusWithRange),
  bind(S.MOVE_MEDIUM, smcMoveMedium),
  bind(S.POSITION_TO_ELEMENT, smcPositionToElement),
  // SMC-3 6.9: PREVENT locks the import/export elements against the operator (Library).
  bind(S.PREVENT_ALLOW_MEDIUM_REMOVAL, execPreventAllowMediumRemoval),
  bind(S.READ_ELEMENT_STATUS, smcReadElementStatus),
];

/** RMB 1 (SPC-4 6.6.2): the library's media are removable, through its mail slots. */
export const CHANGER: DeviceType = deviceType(PeripheralType.CHANGER, true, [...coreBindings, ...spcBindings, ...smcBindings, ...prBindings], SPC_VPD_PAGES);

const library: MediumLibrary = {
  inventory: lu => libraryOf(lu).inventory(),
  importCartridge: (lu, cartridge, mailSlot) => libraryOf(lu).importCartridge(cartridge, mailSlot),
  exportCartridge: (lu, barcode) => libraryOf(lu).exportCartridge(barcode),
};

/**
 * Once every unit exists: find the drives and make them hold what the library state says
 * (Library.start, which is also the recovery after a crash). Units homed on another thread
 * (whose backstore is a placeholder, not the library) have no library here.
 */
async function start(lu: LuView, unit: (name: string) => LuView | undefined): Promise<void> {
  if (!(lu.backstore instanceof LibraryStore)) return;
  const drives = lu.backstore.config.drives.map(name => {
    const d = unit(name);
    if (!d) throw new NexusError('ERR_TOPOLOGY', `changer "${lu.name}" loads unknown device "${name}"`);
    if (!deviceTypes.of(d.config).changeMedium) throw new NexusError('ERR_TOPOLOGY', `changer "${lu.name}": "${name}" has no removable medium`);
    return d;
  });
  const lib = new Library(lu, lu.backstore, drives);
  await lib.start();
  libraries.set(lu, lib);
}

/** Medium changers register themselves as "changer" (handler changer in the topology). */
deviceTypes.register({
  name: 'changer',
  peripheralType: PeripheralType.CHANGER,
  table: CHANGER.table,
  forUnit: () => CHANGER,
  modePages: (store: Backstore) => new ModePages({
    pages: [...SPC_MODE_PAGES, ...changerModePages(store instanceof LibraryStore ? store.config : undefined)],
    writeBack: false,
  }),
  start,
  library,
});
