import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { ExecuteResult, LocalSession } from '../../../../src/transports/local/session';
import { DeviceConfig } from '../../../../src/engine/topology';
import { Status } from '../../../../src/engine/spec/status';

/**
 * CD/DVD-ROM drives through the embedded engine: image files written here (2048-byte blocks
 * whose first bytes name the block, so a read shows which block it got), a target exporting a
 * drive at LUN 0, and CDBs written out by hand.
 */

export const TARGET = 'iqn.2026-11.io.nexus:cdrom';
export const BLOCK = 2048;
/** The longest CD in blocks (80 minutes); one block more is a DVD. */
export const CD_MAX_BLOCKS = 360000;

/** An image of `blocks` blocks; block n starts with the tag byte, then n as 32 bits. */
export function image(blocks: number, tag = 0xc0): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-cdrom-test-'));
  const path = join(dir, `image-${tag.toString(16)}.iso`);
  const b = Buffer.alloc(blocks * BLOCK);
  for (let n = 0; n < blocks; n++) { b[n * BLOCK] = tag; b.writeUInt32BE(n, n * BLOCK + 1); }
  writeFileSync(path, b);
  return path;
}

/** A sparse image of `blocks` blocks (capacity tests: DVD sizes without writing gigabytes). */
export function sparseImage(blocks: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-cdrom-test-'));
  const path = join(dir, 'sparse.iso');
  writeFileSync(path, Buffer.alloc(0));
  require('node:fs').truncateSync(path, blocks * BLOCK);
  return path;
}

export function drive(name: string, path: string | undefined): DeviceConfig {
  const d: DeviceConfig = {
    name, deviceType: 'cdrom', handler: 'vcdrom', sizeBytes: 0n, blockSize: 2048, writeCache: 'writethrough',
    thin: false, readOnly: true, removable: true,
  };
  if (path !== undefined) d.path = path;
  return d;
}

export async function start(path: string | undefined): Promise<EmbeddedTarget> {
  return EmbeddedTarget.start({
    devices: [drive('cd0', path)],
    targets: [{ driver: 'local', name: TARGET, portals: [], groups: [], luns: [{ lun: 0, device: 'cd0', readOnly: false }] }],
  });
}

/** A session whose POWER ON unit attention is consumed (by REQUEST SENSE, which every state answers). */
export async function session(t: EmbeddedTarget, name = 'iqn.2026-11.example:host-a'): Promise<LocalSession> {
  const s = t.session(name);
  const r = await s.execute(0, cdb.tur());
  expect(r.status === Status.GOOD || r.senseKey === 0x06 || r.senseKey === 0x02).to.equal(true);
  return s;
}

export function be16(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
export function be32(v: number): number[] { return [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]; }

/** CDBs written out by hand from MMC-6 / SPC-4, never by the engine's encoders. */
export const cdb = {
  tur: () => [0x00, 0, 0, 0, 0, 0],
  requestSense: (alloc = 18) => [0x03, 0, 0, 0, alloc, 0],
  inquiry: (alloc = 96, evpd = false, page = 0) => [0x12, evpd ? 1 : 0, page, ...be16(alloc), 0],
  readCapacity: () => [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  read10: (lba: number, blocks: number) => [0x28, 0, ...be32(lba), 0, ...be16(blocks), 0],
  read12: (lba: number, blocks: number) => [0xa8, 0, ...be32(lba), ...be32(blocks), 0, 0],
  write10: (lba: number, blocks: number) => [0x2a, 0, ...be32(lba), 0, ...be16(blocks), 0],
  startStop: (loej: boolean, start: boolean, immed = false) => [0x1b, immed ? 1 : 0, 0, 0, (loej ? 2 : 0) | (start ? 1 : 0), 0],
  prevent: (on: boolean) => [0x1e, 0, 0, 0, on ? 1 : 0, 0],
  readToc: (format: number, track: number, msf = false, alloc = 0xfffe, control = 0) =>
    [0x43, msf ? 0x02 : 0, format, 0, 0, 0, track, ...be16(alloc), control],
  getConfiguration: (rt: number, start: number, alloc = 0xfffe) => [0x46, rt, ...be16(start), 0, 0, 0, ...be16(alloc), 0],
  gesn: (classes: number, alloc = 8, polled = true) => [0x4a, polled ? 1 : 0, 0, 0, classes, 0, 0, ...be16(alloc), 0],
  readDiscInformation: (alloc = 34, type = 0) => [0x51, type, 0, 0, 0, 0, 0, ...be16(alloc), 0],
  readTrackInformation: (type: number, address: number, alloc = 48) => [0x52, type, ...be32(address), 0, ...be16(alloc), 0],
  mechanismStatus: (alloc = 8) => [0xbd, 0, 0, 0, 0, 0, 0, 0, ...be16(alloc), 0, 0],
  setCdSpeed: (rc: number, read: number, write = 0xffff) => [0xbb, rc, ...be16(read), ...be16(write), 0, 0, 0, 0, 0, 0],
  getPerformance: (dataType: number, type: number, max: number) => [0xac, dataType, 0, 0, 0, 0, 0, 0, ...be16(max), type, 0],
  modeSense10: (page: number, alloc = 0xfff0) => [0x5a, 0x08, page, 0, 0, 0, 0, ...be16(alloc), 0],
  modeSense6: (page: number, alloc = 0xff) => [0x1a, 0x08, page, 0, alloc, 0],
};

/** [sense key, ASC, ASCQ] of a CHECK CONDITION, or 'GOOD'. */
export function kcq(r: ExecuteResult): [number, number, number] | 'GOOD' {
  if (r.status === Status.GOOD) return 'GOOD';
  expect(r.status).to.equal(Status.CHECK_CONDITION);
  return [r.senseKey!, r.asc!, r.ascq!];
}

/** SPC-4 4.5.2.4.2: the sense-key-specific field pointer of fixed-format sense (byte, bit or undefined). */
export function fieldPointer(r: ExecuteResult): { byte: number; bit?: number } {
  const s = r.sense!;
  expect(s[15] & 0x80, 'SKSV').to.equal(0x80);
  return { byte: (s[16] << 8) | s[17], bit: (s[15] & 0x08) ? s[15] & 0x07 : undefined };
}

export const NOT_READY_TRAY_CLOSED: [number, number, number] = [0x02, 0x3a, 0x01];
export const NOT_READY_TRAY_OPEN: [number, number, number] = [0x02, 0x3a, 0x02];
export const MEDIUM_MAY_HAVE_CHANGED: [number, number, number] = [0x06, 0x28, 0x00];
export const INVALID_FIELD_IN_CDB: [number, number, number] = [0x05, 0x24, 0x00];
