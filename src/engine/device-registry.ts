import { NexusError } from './result';
import { CdbTable } from './cdb/registry';
import { PeripheralType } from './spec/status';
import { DeviceConfig } from './topology';
import { Backstore, DeviceType, LuView } from './types';
import { ModePages } from './mode-page-store';

/**
 * Device personalities (SCST's dev handlers, tgt's device templates): what a device type brings
 * to the engine — its INQUIRY peripheral device type, its CDB rows with their execute steps (and
 * so its RSOC answer) and its VPD pages (DeviceType), and its mode pages. Each personality registers
 * itself here (src/engine/devices/*.ts); the engine core reads only this registry, never a
 * personality module, so tape, changer, CD-ROM and pass-through plug in the way disk does.
 */
export interface DevicePersonality {
  /** The name a topology's device gives as `deviceType` ('disk'). */
  readonly name: string;
  readonly peripheralType: PeripheralType;
  /**
   * Every row the personality may offer: sizes a command's transfer when no unit is known yet
   * (a CDB to an unmapped LUN).
   */
  readonly table: CdbTable;
  /**
   * The device type (command table, bindings, VPD pages) of one unit of this personality, over
   * its opened store (a pass-through unit's table follows the type its device reported).
   */
  forUnit(cfg: DeviceConfig, store: Backstore): DeviceType;
  /** The unit's mode pages over its backstore (MODE SENSE/SELECT, and what other layers act on). */
  modePages(store: Backstore): ModePages;
  /**
   * Personalities with a removable medium the host can swap (CD/DVD-ROM): take the medium out
   * (`path` undefined) or put the image at `path` in, with the unit attentions and events that
   * follow. Refused with a NexusError while the medium is locked in (PREVENT ALLOW MEDIUM REMOVAL).
   */
  changeMedium?(lu: LuView, path: string | undefined): Promise<void>;
  /**
   * Personalities that act on other units of the engine (a medium changer loads its drives):
   * called once every unit of the topology exists, with a way to find them by device name.
   */
  start?(lu: LuView, unit: (name: string) => LuView | undefined): Promise<void>;
  /** Personalities that keep a library of media (a medium changer): the operator's side of it. */
  library?: MediumLibrary;
  /**
   * Personalities whose medium has an identity a medium changer tracks (tape cartridges): the
   * medium in the drive — its file, its volume tag, and whether it is loaded (threaded and ready)
   * or unloaded and waiting to be taken out — or undefined for an empty drive.
   */
  mediumOf?(lu: LuView): MediumInDrive | undefined;
}

/** One element of a library as the operator sees it (the control plane's library.list). */
export interface LibraryElementView {
  element: 'transport' | 'drive' | 'mail' | 'slot';
  /** Within its kind, from 1 for slots and mail slots (as the topology counts them), from 0 for drives. */
  number: number;
  /** SMC-3 element address. */
  address: number;
  /** The drive's device name. */
  device?: string;
  barcode?: string;
  path?: string;
  /** Element address the cartridge was last moved from. */
  source?: number;
  /** In a mail slot because the operator put it there. */
  imported?: boolean;
}

/**
 * The operator at a library's import/export elements (mail slots). Refused with a NexusError:
 * ERR_MEDIUM_REMOVAL_PREVENTED while an initiator keeps the mail slots locked (PREVENT ALLOW
 * MEDIUM REMOVAL), ERR_LIBRARY for a full mail slot, an unknown or duplicate bar code.
 */
export interface MediumLibrary {
  inventory(lu: LuView): LibraryElementView[];
  /** Put a cartridge into a mail slot (the first empty one unless `mailSlot`, from 1, is given); its element address. */
  importCartridge(lu: LuView, cartridge: { barcode: string; path: string }, mailSlot?: number): Promise<number>;
  /** Take the cartridge with `barcode` out of its mail slot. */
  exportCartridge(lu: LuView, barcode: string): Promise<{ barcode: string; path: string }>;
}

/** The medium in a drive, as DevicePersonality.mediumOf reports it. */
export interface MediumInDrive {
  readonly path: string;
  /** Volume tag (barcode). */
  readonly barcode: string;
  readonly loaded: boolean;
}

/** A device without `deviceType` is a disk (SBC-4 direct-access block device). */
export const DEFAULT_DEVICE_TYPE = 'disk';

export class DeviceRegistry {
  private readonly byName = new Map<string, DevicePersonality>();

  register(p: DevicePersonality): void {
    if (this.byName.has(p.name)) throw new NexusError('ERR_DEVICE_TYPE', `device type "${p.name}" is already registered`);
    this.byName.set(p.name, p);
  }

  names(): string[] { return [...this.byName.keys()]; }

  /** The personality called `name`; a name nobody registered is a topology error. */
  get(name: string = DEFAULT_DEVICE_TYPE): DevicePersonality {
    const p = this.byName.get(name);
    if (!p) throw new NexusError('ERR_DEVICE_TYPE', `no device type "${name}" (registered: ${this.names().join(', ') || 'none'})`);
    return p;
  }

  /** The personality a device of the topology asks for. */
  of(cfg: DeviceConfig): DevicePersonality { return this.get(cfg.deviceType); }
}

/** The registry the engine reads; personalities add themselves when src/engine/devices is loaded. */
export const deviceTypes = new DeviceRegistry();
