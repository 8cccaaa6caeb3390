import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EmbeddedTarget, EmbeddedOptions } from '../../../../src/embedded';
import { ExecuteResult, LocalSession } from '../../../../src/transports/local/session';
import { DeviceConfig, LibraryConfig } from '../../../../src/engine/topology';
import { Status } from '../../../../src/engine/spec/status';

/**
 * A library through the embedded engine: a changer (LUN 0) with two CD/DVD-ROM drives (LUNs 1
 * and 2), six storage slots, one mail slot and cartridges that are small ISO images whose first
 * byte names them. CDBs are written out by hand from SMC-3 / SPC-4.
 */

export const TARGET = 'iqn.2026-11.io.nexus:library';
export const BLOCK = 2048;

/** Element addresses (src/engine/devices/smc/elements.ts documents the ranges). */
export const MT = 0x0000;
export const DRIVE = (i: number): number => 0x0100 + i;
export const MAIL = (i: number): number => 0x1000 + i;
/** Storage slot n, counted from 1 as the topology counts them. */
export const SLOT = (n: number): number => 0x2000 + n - 1;

export function workDir(): string { return mkdtempSync(join(tmpdir(), 'nexus-smc-test-')); }

/** A cartridge file: 4 blocks, each starting with `tag`. */
export function cartridgeFile(dir: string, tag: number): string {
  const path = join(dir, `cart-${tag.toString(16)}.iso`);
  const b = Buffer.alloc(4 * BLOCK);
  for (let n = 0; n < 4; n++) b[n * BLOCK] = tag;
  writeFileSync(path, b);
  return path;
}

export function drive(name: string): DeviceConfig {
  return {
    name, deviceType: 'cdrom', handler: 'vcdrom', sizeBytes: 0n, blockSize: 2048, writeCache: 'writethrough',
    thin: false, readOnly: true, removable: true,
  };
}

/** Six cartridges NXS001L6..NXS006L6 (tags 0xa1..0xa6) in slots 1..6 unless `slots` says otherwise. */
export function library(dir: string, over: Partial<LibraryConfig> = {}): LibraryConfig {
  return {
    drives: ['tape0', 'tape1'], slots: 6, mailSlots: 1,
    cartridges: [1, 2, 3, 4, 5, 6].map(n => ({ barcode: `NXS00${n}L6`, path: cartridgeFile(dir, 0xa0 + n), slot: n })),
    statePath: join(dir, 'state', 'lib0.library.json'),
    ...over,
  };
}

export function changer(lib: LibraryConfig): DeviceConfig {
  return {
    name: 'lib0', deviceType: 'changer', handler: 'changer', sizeBytes: 0n, blockSize: 512, writeCache: 'writethrough',
    thin: false, readOnly: false, removable: true, library: lib,
  };
}

export function topology(lib: LibraryConfig) {
  return {
    devices: [changer(lib), drive('tape0'), drive('tape1')],
    targets: [{
      driver: 'local' as const, name: TARGET, portals: [], groups: [],
      luns: [{ lun: 0, device: 'lib0', readOnly: false }, { lun: 1, device: 'tape0', readOnly: false }, { lun: 2, device: 'tape1', readOnly: false }],
    }],
  };
}

export async function start(lib: LibraryConfig, opts: EmbeddedOptions = {}): Promise<EmbeddedTarget> {
  return EmbeddedTarget.start(topology(lib), opts);
}

/** A session whose POWER ON unit attentions are consumed on every LUN. */
export async function session(t: EmbeddedTarget, name = 'iqn.2026-11.example:host-a'): Promise<LocalSession> {
  const s = t.session(name);
  for (const lun of [0, 1, 2]) {
    for (let i = 0; i < 4; i++) {
      const r = await s.execute(lun, cdb.tur());
      if (r.senseKey !== 0x06) break;
    }
  }
  return s;
}

export function be16(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
export function be24(v: number): number[] { return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]; }

/** CDBs written out by hand from SMC-3 / SPC-4, never by the engine's encoders. */
export const cdb = {
  tur: () => [0x00, 0, 0, 0, 0, 0],
  requestSense: (alloc = 18) => [0x03, 0, 0, 0, alloc, 0],
  inquiry: (alloc = 96, evpd = false, page = 0) => [0x12, evpd ? 1 : 0, page, ...be16(alloc), 0],
  initializeElementStatus: () => [0x07, 0, 0, 0, 0, 0],
  initializeElementStatusWithRange: (range: boolean, start: number, count: number, fast = false) =>
    [0xe7, (fast ? 2 : 0) | (range ? 1 : 0), ...be16(start), 0, 0, ...be16(count), 0, 0],
  readElementStatus: (type: number, start: number, count: number, o: { volTag?: boolean; dvcid?: boolean; curData?: boolean; alloc?: number } = {}) =>
    [0xb8, (o.volTag ? 0x10 : 0) | type, ...be16(start), ...be16(count), (o.curData ? 2 : 0) | (o.dvcid ? 1 : 0), ...be24(o.alloc ?? 0xffff), 0, 0],
  moveMedium: (source: number, destination: number, transport = 0) => [0xa5, 0, ...be16(transport), ...be16(source), ...be16(destination), 0, 0, 0, 0],
  positionToElement: (destination: number, transport = 0) => [0x2b, 0, ...be16(transport), ...be16(destination), 0, 0, 0, 0],
  prevent: (on: boolean) => [0x1e, 0, 0, 0, on ? 1 : 0, 0],
  modeSense6: (page: number, alloc = 0xff) => [0x1a, 0x08, page, 0, alloc, 0],
  modeSense10: (page: number, alloc = 0xfff0) => [0x5a, 0x08, page, 0, 0, 0, 0, ...be16(alloc), 0],
  exchangeMedium: () => [0xa6, 0, 0, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0, 0],
  read10: (lba: number, blocks: number) => [0x28, 0, 0, 0, 0, lba, 0, ...be16(blocks), 0],
};

/** [sense key, ASC, ASCQ] of a CHECK CONDITION, or 'GOOD'. */
export function kcq(r: ExecuteResult): [number, number, number] | 'GOOD' {
  if (r.status === Status.GOOD) return 'GOOD';
  expect(r.status).to.equal(Status.CHECK_CONDITION);
  return [r.senseKey!, r.asc!, r.ascq!];
}

export const INVALID_ELEMENT_ADDRESS: [number, number, number] = [0x05, 0x21, 0x01];
export const SOURCE_EMPTY: [number, number, number] = [0x05, 0x3b, 0x0e];
export const DESTINATION_FULL: [number, number, number] = [0x05, 0x3b, 0x0d];
export const REMOVAL_PREVENTED: [number, number, number] = [0x05, 0x53, 0x02];
export const IMPORT_EXPORT_ACCESSED: [number, number, number] = [0x06, 0x28, 0x01];
export const MEDIUM_MAY_HAVE_CHANGED: [number, number, number] = [0x06, 0x28, 0x00];
export const INVALID_FIELD_IN_CDB: [number, number, number] = [0x05, 0x24, 0x00];
export const INVALID_OPCODE: [number, number, number] = [0x05, 0x20, 0x00];

/** The storage-element view of READ ELEMENT STATUS data: address → [full, barcode, source] per descriptor. */
export interface Descriptor { type: number; address: number; flags: number; svalid: boolean; source: number; tag?: string; ident?: Buffer }

/** Parse element status data by hand (SMC-3 6.11) for tests that look at many elements at once. */
export function parseElementStatus(d: Buffer): { first: number; count: number; byteCount: number; pages: Array<{ type: number; pvoltag: boolean; len: number; descriptors: Descriptor[] }> } {
  const out = { first: d.readUInt16BE(0), count: d.readUInt16BE(2), byteCount: d.readUIntBE(5, 3), pages: [] as Array<{ type: number; pvoltag: boolean; len: number; descriptors: Descriptor[] }> };
  let at = 8;
  while (at < d.length) {
    const type = d[at];
    const pvoltag = (d[at + 1] & 0x80) !== 0;
    const len = d.readUInt16BE(at + 2);
    const bytes = d.readUIntBE(at + 5, 3);
    const descriptors: Descriptor[] = [];
    for (let p = at + 8; p < at + 8 + bytes; p += len) {
      const e: Descriptor = { type, address: d.readUInt16BE(p), flags: d[p + 2], svalid: (d[p + 9] & 0x80) !== 0, source: d.readUInt16BE(p + 10) };
      let q = p + 12;
      if (pvoltag) { e.tag = d.subarray(q, q + 32).toString('latin1'); q += 36; }
      const idLen = d[q + 3];
      if (idLen > 0) e.ident = Buffer.from(d.subarray(q + 4, q + 4 + idLen));
      descriptors.push(e);
    }
    out.pages.push({ type, pvoltag, len, descriptors });
    at += 8 + bytes;
  }
  return out;
}
