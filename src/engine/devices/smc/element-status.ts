import { ElementType } from './elements';

/**
 * READ ELEMENT STATUS data (SMC-3 6.11): an element status header, then one element status page
 * per run of elements of one type, each a page header and fixed-length element descriptors.
 */

/** What is reported of one element. */
export interface ElementReport {
  type: ElementType;
  address: number;
  full: boolean;
  /** The bar code of the cartridge in it (PRIMARY VOLUME TAG). */
  barcode?: string;
  /** SOURCE STORAGE ELEMENT ADDRESS: the element its cartridge was last moved from. */
  source?: number;
  /** Import/export element: the operator put the cartridge there (IMPEXP). */
  imported?: boolean;
  /** Data transfer element: the drive's logical unit NAA designator (VPD 83h), for DVCID. */
  naa?: Uint8Array;
}

export interface ElementStatusOptions {
  /** VOLTAG: report primary volume tags. */
  volTag: boolean;
  /** DVCID: report the data transfer elements' device identifiers. */
  dvcid: boolean;
}

/** SMC-3 6.11.2: element status data header and element status page header, 8 bytes each. */
const DATA_HEADER = 8;
const PAGE_HEADER = 8;
/** Element address, flags, ASC/ASCQ, reserved, SVALID/medium type, source address. */
const DESCRIPTOR_BASE = 12;
/** SMC-3 6.11.3: VOLUME IDENTIFICATION (32 bytes), reserved (2), VOLUME SEQUENCE NUMBER (2). */
const VOLUME_TAG = 36;
const VOLUME_IDENTIFICATION = 32;
/** CODE SET, IDENTIFIER TYPE, reserved, IDENTIFIER LENGTH before the identifier itself. */
const IDENTIFIER_HEADER = 4;

/** SPC-4 7.8.6: code set 1h binary, designator type 3h NAA (as VPD 83h gives it). */
const CODE_SET_BINARY = 0x1;
const DESIGNATOR_TYPE_NAA = 0x3;

/** SMC-3 table 31 (element descriptor byte 9): MEDIUM TYPE 001b, a data medium. */
const MEDIUM_TYPE_DATA = 0x1;

const FLAG = {
  FULL: 0x01,
  IMPEXP: 0x02,
  ACCESS: 0x08,
  EXENAB: 0x10,
  INENAB: 0x20,
} as const;

/** Element descriptor byte 2 for each element type (SMC-3 6.11.4 .. 6.11.7). */
function flags(e: ElementReport): number {
  const full = e.full ? FLAG.FULL : 0;
  switch (e.type) {
    // 6.11.4 medium transport: EXCEPT, FULL.
    case ElementType.MEDIUM_TRANSPORT: return full;
    // 6.11.6 import/export: OIR 0 (in place), CMC 0, INENAB and EXENAB 1 (media go both ways),
    // ACCESS 1 (the transport reaches it), IMPEXP (the operator put it there), FULL.
    case ElementType.IMPORT_EXPORT: return FLAG.INENAB | FLAG.EXENAB | FLAG.ACCESS | (e.imported ? FLAG.IMPEXP : 0) | full;
    // 6.11.5 storage and 6.11.7 data transfer: ACCESS 1, FULL.
    default: return FLAG.ACCESS | full;
  }
}

function descriptorLength(type: ElementType, o: ElementStatusOptions, naaLength: number): number {
  const id = o.dvcid && type === ElementType.DATA_TRANSFER ? naaLength : 0;
  return DESCRIPTOR_BASE + (o.volTag ? VOLUME_TAG : 0) + IDENTIFIER_HEADER + id;
}

function writeDescriptor(b: Buffer, at: number, e: ElementReport, o: ElementStatusOptions): void {
  b.writeUInt16BE(e.address, at); // bytes 0..1 ELEMENT ADDRESS
  b[at + 2] = flags(e);
  // byte 3 reserved; bytes 4..5 ASC/ASCQ 0 (no exception); bytes 6..8 reserved
  // byte 9: SVALID (7) | INVERT 0 | ED 0 | MEDIUM TYPE (2..0)
  b[at + 9] = (e.full && e.source !== undefined ? 0x80 : 0) | (e.full ? MEDIUM_TYPE_DATA : 0);
  if (e.full && e.source !== undefined) b.writeUInt16BE(e.source, at + 10); // SOURCE STORAGE ELEMENT ADDRESS
  let p = at + DESCRIPTOR_BASE;
  if (o.volTag) {
    // PRIMARY VOLUME TAG INFORMATION: the bar code left-aligned, padded with spaces; zeros when
    // the element is empty (no tag to read). VOLUME SEQUENCE NUMBER 0.
    if (e.full && e.barcode !== undefined) {
      b.fill(0x20, p, p + VOLUME_IDENTIFICATION);
      b.write(e.barcode, p, VOLUME_IDENTIFICATION, 'latin1');
    }
    p += VOLUME_TAG;
  }
  // CODE SET, IDENTIFIER TYPE, reserved, IDENTIFIER LENGTH, IDENTIFIER (DVCID, drives only)
  if (o.dvcid && e.type === ElementType.DATA_TRANSFER && e.naa) {
    b[p] = CODE_SET_BINARY;
    b[p + 1] = DESIGNATOR_TYPE_NAA;
    b[p + 3] = e.naa.length;
    b.set(e.naa, p + IDENTIFIER_HEADER);
  }
}

/**
 * The whole report for `elements` (already chosen by type, starting address and number, in
 * ascending address order). The allocation length truncates it in the pipeline; the header says
 * how long the whole report is.
 */
export function buildElementStatus(elements: readonly ElementReport[], o: ElementStatusOptions): Buffer {
  const naaLength = elements.find(e => e.naa)?.naa?.length ?? 0;
  // Pages: runs of one element type.
  const pages: ElementReport[][] = [];
  for (const e of elements) {
    const last = pages[pages.length - 1];
    if (last && last[0].type === e.type) last.push(e);
    else pages.push([e]);
  }
  const pageBytes = pages.map(p => PAGE_HEADER + p.length * descriptorLength(p[0].type, o, naaLength));
  const total = pageBytes.reduce((a, n) => a + n, 0);
  const b = Buffer.alloc(DATA_HEADER + total);
  // Element status header: FIRST ELEMENT ADDRESS REPORTED (0..1), NUMBER OF ELEMENTS AVAILABLE
  // (2..3), reserved (4), BYTE COUNT OF REPORT AVAILABLE (5..7, the pages after this header).
  if (elements.length > 0) b.writeUInt16BE(elements[0].address, 0);
  b.writeUInt16BE(elements.length, 2);
  b.writeUIntBE(total, 5, 3);
  let at = DATA_HEADER;
  pages.forEach((page, i) => {
    const type = page[0].type;
    const len = descriptorLength(type, o, naaLength);
    // Element status page header: ELEMENT TYPE CODE (0), PVOLTAG (1 bit 7) AVOLTAG 0,
    // ELEMENT DESCRIPTOR LENGTH (2..3), reserved (4), BYTE COUNT OF DESCRIPTOR DATA AVAILABLE (5..7).
    b[at] = type;
    b[at + 1] = o.volTag ? 0x80 : 0;
    b.writeUInt16BE(len, at + 2);
    b.writeUIntBE(pageBytes[i] - PAGE_HEADER, at + 5, 3);
    at += PAGE_HEADER;
    for (const e of page) { writeDescriptor(b, at, e, o); at += len; }
  });
  return b;
}
