import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { ExecuteResult, LocalSession } from '../../../../src/transports/local/session';
import { DeviceConfig } from '../../../../src/engine/topology';
import { Status } from '../../../../src/engine/spec/status';
import { Cartridge, CartridgeLabel } from '../../../../src/engine/backstores/tape-cartridge';

/**
 * Tape drives through the embedded engine: cartridges made here, a target exporting a drive at
 * LUN 0, and CDBs written out by hand from SSC-4 / SPC-4.
 */

export const TARGET = 'iqn.2026-12.io.nexus:tape';
export const MiB = 1024 * 1024;

/** A new empty cartridge file. */
export async function cartridge(label: Partial<CartridgeLabel> = {}): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'nexus-tape-test-')), 'c.tape');
  await Cartridge.create(path, { barcode: 'TST001', capacityBytes: 8 * MiB, ...label });
  return path;
}

export function drive(name: string, path: string | undefined): DeviceConfig {
  const d: DeviceConfig = {
    name, deviceType: 'tape', handler: 'vtape', sizeBytes: 0n, blockSize: 512, writeCache: 'writeback',
    thin: false, readOnly: false, removable: true,
  };
  if (path !== undefined) d.path = path;
  return d;
}

export async function start(path: string | undefined, readOnlyLun = false): Promise<EmbeddedTarget> {
  return EmbeddedTarget.start({
    devices: [drive('st0', path)],
    targets: [{ driver: 'local', name: TARGET, portals: [], groups: [], luns: [{ lun: 0, device: 'st0', readOnly: readOnlyLun }] }],
  });
}

/** A session whose POWER ON unit attention is consumed. */
export async function session(t: EmbeddedTarget, name = 'iqn.2026-12.example:host-a'): Promise<LocalSession> {
  const s = t.session(name);
  await s.execute(0, cdb.tur());
  return s;
}

export const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
export const be24 = (v: number): number[] => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
export const be32 = (v: number): number[] => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
/** Eight bytes, big-endian, two's complement for a negative `v`. */
export const be64 = (v: bigint | number): number[] => {
  const u = BigInt.asUintN(64, BigInt(v));
  return Array.from({ length: 8 }, (_, i) => Number((u >> BigInt(56 - 8 * i)) & 0xffn));
};

/** CDBs written out by hand from SSC-4 / SPC-4, never by the engine's encoders. */
export const cdb = {
  tur: () => [0x00, 0, 0, 0, 0, 0],
  requestSense: (alloc = 18, desc = false) => [0x03, desc ? 1 : 0, 0, 0, alloc, 0],
  inquiry: (alloc = 96, evpd = false, page = 0) => [0x12, evpd ? 1 : 0, page, ...be16(alloc), 0],
  read6: (len: number, fixed = false, sili = false) => [0x08, (sili ? 2 : 0) | (fixed ? 1 : 0), ...be24(len), 0],
  write6: (len: number, fixed = false) => [0x0a, fixed ? 1 : 0, ...be24(len), 0],
  writeFilemarks6: (n: number, immed = false) => [0x10, immed ? 1 : 0, ...be24(n), 0],
  space6: (code: number, count: number) => [0x11, code, ...be24(count & 0xffffff), 0],
  rewind: (immed = false) => [0x01, immed ? 1 : 0, 0, 0, 0, 0],
  loadUnload: (load: boolean, reten = false, hold = false) => [0x1b, 0, 0, 0, (hold ? 8 : 0) | (reten ? 2 : 0) | (load ? 1 : 0), 0],
  locate10: (id: number, bt = false, cp = false, partition = 0) => [0x2b, (bt ? 4 : 0) | (cp ? 2 : 0), 0, ...be32(id), 0, partition, 0],
  read16: (id: number, len: number, fixed = false, sili = false, partition = 0) =>
    [0x88, (sili ? 2 : 0) | (fixed ? 1 : 0), 0, partition, ...be64(id), ...be24(len), 0],
  write16: (id: number, len: number, fixed = false, partition = 0) => [0x8a, fixed ? 1 : 0, 0, partition, ...be64(id), ...be24(len), 0],
  writeFilemarks16: (id: number, n: number, immed = false) => [0x80, immed ? 1 : 0, 0, 0, ...be64(id), ...be24(n), 0],
  space16: (code: number, count: bigint | number) => [0x91, code, 0, 0, ...be64(count), 0, 0, 0, 0],
  locate16: (destType: number, id: bigint | number, cp = false, partition = 0, bam = false) =>
    [0x92, (destType << 3) | (cp ? 2 : 0), bam ? 1 : 0, partition, ...be64(id), 0, 0, 0, 0],
  readPosition: (sa: number, alloc = 0) => [0x34, sa, 0, 0, 0, 0, 0, ...be16(alloc), 0],
  erase6: (long = false) => [0x19, long ? 1 : 0, 0, 0, 0, 0],
  readBlockLimits: () => [0x05, 0, 0, 0, 0, 0],
  reportDensitySupport: (media = false, alloc = 0xfff0) => [0x44, media ? 1 : 0, 0, 0, 0, 0, 0, ...be16(alloc), 0],
  prevent: (on: boolean) => [0x1e, 0, 0, 0, on ? 1 : 0, 0],
  modeSense6: (page: number, alloc = 0xff, dbd = false) => [0x1a, dbd ? 0x08 : 0, page, 0, alloc, 0],
  modeSense10: (page: number, alloc = 0xfff0) => [0x5a, 0, page, 0, 0, 0, 0, ...be16(alloc), 0],
  modeSelect6: (len: number) => [0x15, 0x10, 0, 0, len, 0],
  logSense: (page: number, alloc = 0xfff0) => [0x4d, 0, 0x40 | page, 0, 0, 0, 0, ...be16(alloc), 0],
};

/** MODE SELECT(6) parameter list: header (BUFFERED MODE), an 8-byte block descriptor. */
export function blockDescriptorList(blockLength: number, density = 0, buffered = 1): number[] {
  return [0, 0, buffered << 4, 8, density, 0, 0, 0, 0, ...be24(blockLength)];
}

/** Put the drive in fixed-block mode with `len`-byte blocks, or variable mode with 0. */
export async function setBlockLength(s: LocalSession, len: number): Promise<void> {
  const list = blockDescriptorList(len);
  const r = await s.execute(0, cdb.modeSelect6(list.length), { dataOut: Buffer.from(list) });
  expect(kcq(r)).to.equal('GOOD');
}

export function block(len: number, fill: number): Buffer { return Buffer.alloc(len, fill); }

/** [sense key, ASC, ASCQ] of a CHECK CONDITION, or 'GOOD'. */
export function kcq(r: ExecuteResult): [number, number, number] | 'GOOD' {
  if (r.status === Status.GOOD) return 'GOOD';
  expect(r.status).to.equal(Status.CHECK_CONDITION);
  return [r.senseKey!, r.asc!, r.ascq!];
}

/** The stream bits of fixed-format sense byte 2, and the INFORMATION field when VALID. */
export function stream(r: ExecuteResult): { filemark: boolean; eom: boolean; ili: boolean; info?: number } {
  const s = r.sense!;
  const out: { filemark: boolean; eom: boolean; ili: boolean; info?: number } = {
    filemark: (s[2] & 0x80) !== 0, eom: (s[2] & 0x40) !== 0, ili: (s[2] & 0x20) !== 0,
  };
  if (s[0] & 0x80) out.info = s.readInt32BE(3);
  return out;
}

/** READ POSITION short form: [BOP, first logical object location]. */
export async function position(s: LocalSession): Promise<number> {
  const r = await s.execute(0, cdb.readPosition(0));
  expect(kcq(r)).to.equal('GOOD');
  return r.data.readUInt32BE(4);
}

export const FILEMARK: [number, number, number] = [0x00, 0x00, 0x01];
export const EOD: [number, number, number] = [0x08, 0x00, 0x05];
export const BOP: [number, number, number] = [0x00, 0x00, 0x04];
export const EARLY_WARNING: [number, number, number] = [0x00, 0x00, 0x02];
export const VOLUME_OVERFLOW: [number, number, number] = [0x0d, 0x00, 0x02];
export const NO_SENSE: [number, number, number] = [0x00, 0x00, 0x00];
export const NOT_PRESENT: [number, number, number] = [0x02, 0x3a, 0x00];
export const MEDIUM_MAY_HAVE_CHANGED: [number, number, number] = [0x06, 0x28, 0x00];
export const INVALID_FIELD_IN_CDB: [number, number, number] = [0x05, 0x24, 0x00];
export const INVALID_FIELD_IN_PARAMETER_LIST: [number, number, number] = [0x05, 0x26, 0x00];
export const WRITE_PROTECTED: [number, number, number] = [0x07, 0x27, 0x00];
export const REMOVAL_PREVENTED: [number, number, number] = [0x05, 0x53, 0x02];
