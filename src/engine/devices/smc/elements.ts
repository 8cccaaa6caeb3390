import { LibraryConfig } from '../../topology';
import { LibraryPlace } from '../../backstores/library';

/**
 * The elements of a library and their addresses (SMC-3 4.2). Each element type has its own
 * range of 16-bit element addresses, reported in the element address assignment mode page
 * (1Dh) and used by READ ELEMENT STATUS and MOVE MEDIUM:
 *
 *   medium transport   0000h            the one robot (holds no cartridge between commands)
 *   data transfer      0100h + i        drive i of the topology's `drives`, in order
 *   import/export      1000h + i        mail slot i (0-based; `mailSlots` of them)
 *   storage            2000h + i        storage slot i + 1 of the topology (`slots` of them)
 *
 * Each range leaves room for 4096 elements (the schema's limit), so an address names its type.
 */

/** SMC-3 table 5: ELEMENT TYPE CODE. */
export enum ElementType {
  ALL = 0x0,
  MEDIUM_TRANSPORT = 0x1,
  STORAGE = 0x2,
  IMPORT_EXPORT = 0x3,
  DATA_TRANSFER = 0x4,
}

export const MEDIUM_TRANSPORT_ADDRESS = 0x0000;
export const FIRST_DATA_TRANSFER_ADDRESS = 0x0100;
export const FIRST_IMPORT_EXPORT_ADDRESS = 0x1000;
export const FIRST_STORAGE_ADDRESS = 0x2000;

const FIRST: Record<LibraryPlace['kind'], number> = {
  drive: FIRST_DATA_TRANSFER_ADDRESS, mail: FIRST_IMPORT_EXPORT_ADDRESS, slot: FIRST_STORAGE_ADDRESS,
};
const TYPE: Record<LibraryPlace['kind'], ElementType> = {
  drive: ElementType.DATA_TRANSFER, mail: ElementType.IMPORT_EXPORT, slot: ElementType.STORAGE,
};

export function addressOf(p: LibraryPlace): number { return FIRST[p.kind] + p.index; }
export function typeOf(p: LibraryPlace): ElementType { return TYPE[p.kind]; }

/** The element at `address`: the transport, a place that holds cartridges, or none. */
export type Element = { kind: 'transport' } | LibraryPlace;

export function elementAt(cfg: LibraryConfig, address: number): Element | undefined {
  if (address === MEDIUM_TRANSPORT_ADDRESS) return { kind: 'transport' };
  const within = (first: number, count: number): number | undefined =>
    address >= first && address < first + count ? address - first : undefined;
  let i = within(FIRST_DATA_TRANSFER_ADDRESS, cfg.drives.length);
  if (i !== undefined) return { kind: 'drive', index: i };
  i = within(FIRST_IMPORT_EXPORT_ADDRESS, cfg.mailSlots);
  if (i !== undefined) return { kind: 'mail', index: i };
  i = within(FIRST_STORAGE_ADDRESS, cfg.slots);
  if (i !== undefined) return { kind: 'slot', index: i };
  return undefined;
}

/** Every element of the library in ascending address order, with its type and address. */
export function allElements(cfg: LibraryConfig): Array<{ type: ElementType; address: number; place?: LibraryPlace }> {
  const out: Array<{ type: ElementType; address: number; place?: LibraryPlace }> = [
    { type: ElementType.MEDIUM_TRANSPORT, address: MEDIUM_TRANSPORT_ADDRESS },
  ];
  const add = (kind: LibraryPlace['kind'], count: number): void => {
    for (let index = 0; index < count; index++) {
      const place = { kind, index };
      out.push({ type: typeOf(place), address: addressOf(place), place });
    }
  };
  add('drive', cfg.drives.length);
  add('mail', cfg.mailSlots);
  add('slot', cfg.slots);
  return out;
}
