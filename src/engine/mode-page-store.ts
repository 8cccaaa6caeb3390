import { NexusError } from './result';

/**
 * The mode page store (SPC-4 7.5, SBC-4 6.5): the page table and a unit's current values, which
 * MODE SENSE / MODE SELECT (mode-pages.ts) read and change and other layers act on (ModeParams).
 * Nothing is saveable: PS is always zero.
 */

/** Mode parameters that other layers act on. */
export interface ModeParams {
  /** Caching page (08h) WCE. */
  readonly writeCacheEnabled: boolean;
  /** Control page (0Ah) D_SENSE: descriptor-format sense. */
  readonly descriptorSense: boolean;
  /** Control page (0Ah) SWP: software write protect. */
  readonly softwareWriteProtect: boolean;
}

export enum ModePageCode {
  READ_WRITE_ERROR_RECOVERY = 0x01,
  CACHING = 0x08,
  CONTROL = 0x0a,
  /** SSC-4 8.3.2: data compression (tape drives). */
  DATA_COMPRESSION = 0x0f,
  /** SSC-4 8.3.3: device configuration (tape drives). */
  DEVICE_CONFIGURATION = 0x10,
  /** SSC-4 8.3.4: medium partition (tape drives). */
  MEDIUM_PARTITION = 0x11,
  INFORMATIONAL_EXCEPTIONS_CONTROL = 0x1c,
  /** SMC-3 7.3 (medium changers): element address ranges, transport geometry, what moves where. */
  ELEMENT_ADDRESS_ASSIGNMENT = 0x1d,
  TRANSPORT_GEOMETRY_PARAMETERS = 0x1e,
  DEVICE_CAPABILITIES = 0x1f,
  /** MMC-6 (legacy, still read by Linux sr and Windows cdrom.sys): the drive's capabilities. */
  MM_CAPABILITIES_AND_MECHANICAL_STATUS = 0x2a,
  /** MODE SENSE only: every page. */
  ALL_PAGES = 0x3f,
}

/** SPC-4 6.11 table 163: the PAGE CONTROL field. */
export enum PageControl { CURRENT = 0, CHANGEABLE = 1, DEFAULT = 2, SAVED = 3 }

/** MODE SENSE SUBPAGE CODE FFh: every subpage of the page(s). */
export const ALL_SUBPAGES = 0xff;

export interface ModePageDef {
  code: ModePageCode;
  subpage: number;
  /** Default values of the whole page, page header included. */
  defaults(opts: ModePagesOptions): Uint8Array;
  /** Changeable-values mask of the whole page (PC 01b); header bytes as in the page. */
  changeable: Uint8Array;
}

/**
 * The mode parameter header and block descriptor of a device type whose medium is not described
 * the direct-access way (SSC-4 8.3: a tape drive's density, block length and buffered mode). A
 * unit without one has the SBC-4 block descriptor (disks) or none.
 */
export interface ModeMedium {
  /** MODE SENSE: the header's DEVICE-SPECIFIC PARAMETER (`writeProtected`: the WP bit to report). */
  deviceSpecific(writeProtected: boolean): number;
  /** MODE SENSE: the (short, 8-byte) block descriptor. */
  blockDescriptor(): Uint8Array;
  /**
   * MODE SELECT: check the header's DEVICE-SPECIFIC PARAMETER (at parameter byte `dspAt`) and the
   * block descriptor (at `bdAt`, absent when the list has none). Returns the refusal, or the change
   * to make once the whole parameter list has passed.
   */
  select(dsp: number, dspAt: number, bd: Uint8Array | undefined, bdAt: number): import('./result').Outcome | (() => boolean);
}

export interface ModePagesOptions {
  /** The header and block descriptor of a medium that is not a direct-access one. */
  medium?: ModeMedium;
  /** The pages the unit's device type offers (SPC_MODE_PAGES, plus SBC_MODE_PAGES for disks). */
  pages: readonly ModePageDef[];
  /** Initial caching page WCE (the backstore's write-back setting). */
  writeBack: boolean;
  /** Caching page RCD: the backstore has no read cache (O_DIRECT). */
  readCacheDisabled?: boolean;
}

/** Page-0 format page: byte 0 PS 0 / SPF 0 / PAGE CODE, byte 1 PAGE LENGTH, then `body`. */
function page0(code: ModePageCode, body: number[]): Uint8Array {
  return Uint8Array.from([code, body.length, ...body]);
}

// Byte positions and masks the rest of this file names.
const CACHING_WCE = { byte: 2, mask: 0x04 };
const CACHING_RCD = { byte: 2, mask: 0x01 };
const CONTROL_D_SENSE = { byte: 2, mask: 0x04 };
const CONTROL_SWP = { byte: 4, mask: 0x08 };

/** SBC-4 6.5: the block device pages a disk adds. */
export const SBC_MODE_PAGES: readonly ModePageDef[] = [
  {
    // SBC-4 6.5.9 table 196, PAGE LENGTH 0Ah. No medium to retry on: every field zero.
    code: ModePageCode.READ_WRITE_ERROR_RECOVERY, subpage: 0,
    defaults: () => page0(ModePageCode.READ_WRITE_ERROR_RECOVERY, new Array(10).fill(0)),
    changeable: page0(ModePageCode.READ_WRITE_ERROR_RECOVERY, new Array(10).fill(0)),
  },
  {
    // SBC-4 6.5.5 table 186, PAGE LENGTH 12h. byte 2: IC ABPF CAP DISC SIZE WCE MF RCD.
    // WCE follows the backstore and is changeable; RCD reports whether reads bypass a cache.
    code: ModePageCode.CACHING, subpage: 0,
    defaults: o => {
      const p = page0(ModePageCode.CACHING, new Array(18).fill(0));
      if (o.writeBack) p[CACHING_WCE.byte] |= CACHING_WCE.mask;
      if (o.readCacheDisabled) p[CACHING_RCD.byte] |= CACHING_RCD.mask;
      return p;
    },
    changeable: (() => {
      const m = page0(ModePageCode.CACHING, new Array(18).fill(0));
      m[CACHING_WCE.byte] = CACHING_WCE.mask;
      return m;
    })(),
  },
];

/** SPC-4 7.5: the pages every device type offers. */
export const SPC_MODE_PAGES: readonly ModePageDef[] = [
  {
    // SPC-4 7.5.8 table 457 (control mode page), PAGE LENGTH 0Ah:
    //  byte 2: TST 000b (one task set shared by all I_T nexuses) | TMF_ONLY 0 | DPICZ 0 |
    //          D_SENSE (changeable) | GLTSD 1 (log parameters are never saved) | RLEC 0
    //  byte 3: QUEUE ALGORITHM MODIFIER 1 (unrestricted reordering of SIMPLE tasks) | NUAR 0 |
    //          QERR 00b (other tasks are not aborted on CHECK CONDITION)
    //  byte 4: RAC 0 | UA_INTLCK_CTRL 00b | SWP (changeable)
    //  byte 5: ATO 0 | TAS 0 (aborted tasks of other nexuses are not reported) | AUTOLOAD 0
    //  bytes 8..9 BUSY TIMEOUT PERIOD 0 (undefined), 10..11 EXTENDED SELF-TEST COMPLETION TIME 0
    code: ModePageCode.CONTROL, subpage: 0,
    defaults: () => page0(ModePageCode.CONTROL, [0x02, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]),
    changeable: page0(ModePageCode.CONTROL, [CONTROL_D_SENSE.mask, 0, CONTROL_SWP.mask, 0, 0, 0, 0, 0, 0, 0]),
  },
  {
    // SPC-4 7.5.11 table 463, PAGE LENGTH 0Ah: informational exceptions are not reported, so
    // DEXCPT 1 (byte 2 bit 3) and MRIE 0; nothing changeable.
    code: ModePageCode.INFORMATIONAL_EXCEPTIONS_CONTROL, subpage: 0,
    defaults: () => page0(ModePageCode.INFORMATIONAL_EXCEPTIONS_CONTROL, [0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    changeable: page0(ModePageCode.INFORMATIONAL_EXCEPTIONS_CONTROL, new Array(10).fill(0)),
  },
];

const key = (code: number, subpage: number): number => (code << 8) | subpage;

/**
 * The mode pages of one logical unit: current values shared by every I_T nexus (SPC-4 allows
 * one set per unit). The engine creates one per unit and hands it out as `lu.modes`.
 */
export class ModePages implements ModeParams {
  /** The unit's pages in ascending page and subpage order (MODE SENSE of all pages lists them so). */
  readonly pages: readonly ModePageDef[];
  readonly medium: ModeMedium | undefined;
  private readonly defaults = new Map<number, Uint8Array>();
  private readonly current = new Map<number, Uint8Array>();

  constructor(opts: ModePagesOptions) {
    this.pages = [...opts.pages].sort((a, b) => key(a.code, a.subpage) - key(b.code, b.subpage));
    this.medium = opts.medium;
    for (const p of this.pages) {
      const d = p.defaults(opts);
      this.defaults.set(key(p.code, p.subpage), d);
      this.current.set(key(p.code, p.subpage), Uint8Array.from(d));
    }
  }

  get writeCacheEnabled(): boolean { return this.flag(ModePageCode.CACHING, CACHING_WCE); }
  get descriptorSense(): boolean { return this.flag(ModePageCode.CONTROL, CONTROL_D_SENSE); }
  get softwareWriteProtect(): boolean { return this.flag(ModePageCode.CONTROL, CONTROL_SWP); }

  /**
   * SBC-4 7.5.5: WCE of the caching page set by the host rather than by MODE SELECT (a live
   * configuration change); false when the unit has no caching page or WCE already had that value.
   */
  setWriteCacheEnabled(on: boolean): boolean {
    const p = this.current.get(key(ModePageCode.CACHING, 0));
    if (p === undefined || ((p[CACHING_WCE.byte] & CACHING_WCE.mask) !== 0) === on) return false;
    p[CACHING_WCE.byte] ^= CACHING_WCE.mask;
    return true;
  }

  /** A flag of a page the unit has; a device type without the page has the flag clear. */
  private flag(code: ModePageCode, f: { byte: number; mask: number }): boolean {
    const p = this.current.get(key(code, 0));
    return p !== undefined && (p[f.byte] & f.mask) !== 0;
  }

  /** The page's values for `pc` (saved values do not exist). */
  values(def: ModePageDef, pc: Exclude<PageControl, PageControl.SAVED>): Uint8Array {
    const k = key(def.code, def.subpage);
    switch (pc) {
      case PageControl.CURRENT: return this.current.get(k)!;
      case PageControl.CHANGEABLE: return def.changeable;
      case PageControl.DEFAULT: return this.defaults.get(k)!;
    }
  }

  /** Replace current values (MODE SELECT, after the whole parameter list has been checked). */
  set(code: number, subpage: number, bytes: Uint8Array): boolean {
    const k = key(code, subpage);
    const old = this.current.get(k);
    if (!old || old.length !== bytes.length) throw new NexusError('ERR_MODE_PAGE', `no mode page ${code}/${subpage} of that length`);
    const changed = old.some((v, i) => v !== bytes[i]);
    this.current.set(k, Uint8Array.from(bytes));
    return changed;
  }
}
