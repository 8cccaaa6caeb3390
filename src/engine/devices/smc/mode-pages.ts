import { LibraryConfig } from '../../topology';
import { ModePageCode, ModePageDef } from '../../mode-page-store';
import {
  FIRST_DATA_TRANSFER_ADDRESS, FIRST_IMPORT_EXPORT_ADDRESS, FIRST_STORAGE_ADDRESS, MEDIUM_TRANSPORT_ADDRESS,
} from './elements';

/**
 * The medium changer's mode pages (SMC-3 7.3). None is changeable: the library's layout is the
 * topology's, and MODE SELECT can only send the same values back.
 */

/** A page-0 format page with nothing changeable (header bytes as in the page). */
function fixedPage(code: ModePageCode, body: number[]): ModePageDef {
  const page = Uint8Array.from([code, body.length, ...body]);
  const changeable = new Uint8Array(page.length);
  changeable[0] = code;
  changeable[1] = body.length;
  return { code, subpage: 0, defaults: () => Uint8Array.from(page), changeable };
}

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];

/** SMC-3 7.3.2 element address assignment page (1Dh), PAGE LENGTH 12h. */
function elementAddressAssignment(cfg: LibraryConfig): ModePageDef {
  return fixedPage(ModePageCode.ELEMENT_ADDRESS_ASSIGNMENT, [
    ...be16(MEDIUM_TRANSPORT_ADDRESS), ...be16(1), // bytes 2..5: first medium transport element, count
    ...be16(FIRST_STORAGE_ADDRESS), ...be16(cfg.slots), // bytes 6..9: first storage element, count
    ...be16(FIRST_IMPORT_EXPORT_ADDRESS), ...be16(cfg.mailSlots), // bytes 10..13: import/export
    ...be16(FIRST_DATA_TRANSFER_ADDRESS), ...be16(cfg.drives.length), // bytes 14..17: data transfer
    0, 0, // bytes 18..19 reserved
  ]);
}

/**
 * SMC-3 7.3.4 transport geometry parameters page (1Eh): one descriptor per medium transport,
 * ROTATE 0 (media are one-sided: no INVERT), MEMBER NUMBER IN TRANSPORT ELEMENT SET 0.
 */
const TRANSPORT_GEOMETRY = fixedPage(ModePageCode.TRANSPORT_GEOMETRY_PARAMETERS, [0x00, 0x00]);

/**
 * Device capabilities bits, one per element type in each byte below: MT 01h (unused: the
 * transport is never a destination), ST 02h, I/E 04h, DT 08h.
 */
const ST = 0x02;
const IE = 0x04;
const DT = 0x08;

/**
 * SMC-3 7.3.3 device capabilities page (1Fh), PAGE LENGTH 12h. Byte 2: which element types can
 * store media (StorST, StorI/E, StorDT; not the transport, which only carries). Bytes 4..7: for
 * a source of type MT, ST, I/E, DT, the destination types MOVE MEDIUM accepts: any storage,
 * import/export or data transfer element from any of them. Bytes 12..15, the EXCHANGE MEDIUM
 * capabilities, are zero: EXCHANGE MEDIUM is not offered (not in the command table).
 */
const DEVICE_CAPABILITIES = fixedPage(ModePageCode.DEVICE_CAPABILITIES, [
  ST | IE | DT, // byte 2: StorDT StorI/E StorST, StorMT 0
  0x00, // byte 3 reserved
  0x00, // byte 4: MT -> nothing (the transport never holds a cartridge between commands)
  ST | IE | DT, // byte 5: ST -> ST, I/E, DT
  ST | IE | DT, // byte 6: I/E -> ST, I/E, DT
  ST | IE | DT, // byte 7: DT -> ST, I/E, DT
  0, 0, 0, 0, // bytes 8..11 reserved
  0, 0, 0, 0, // bytes 12..15: no exchanges
  0, 0, 0, 0, // bytes 16..19 reserved
]);

/** The pages a changer offers besides SPC-4's. */
export function changerModePages(cfg: LibraryConfig | undefined): ModePageDef[] {
  const layout = cfg ?? { drives: [], slots: 0, mailSlots: 0, cartridges: [], statePath: '' };
  return [elementAddressAssignment(layout), TRANSPORT_GEOMETRY, DEVICE_CAPABILITIES];
}

/** Whether the device capabilities page lets a cartridge move from `from` to `to` (bits above). */
export function moveAllowed(from: 'slot' | 'mail' | 'drive', to: 'slot' | 'mail' | 'drive'): boolean {
  const bit = { slot: ST, mail: IE, drive: DT };
  const byte = { slot: 5, mail: 6, drive: 7 }[from];
  return (DEVICE_CAPABILITIES.defaults({ pages: [], writeBack: false })[byte] & bit[to]) !== 0;
}
