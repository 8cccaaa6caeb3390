import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedTarget } from '../../../../src/embedded';
import { DeviceConfig, TargetConfig } from '../../../../src/engine/topology';

export const TARGET = 'iqn.2026-11.io.nexus:test';
export const INIT_A = 'iqn.2026-11.example:host-a';
export const INIT_B = 'iqn.2026-11.example:host-b';

export function ram(name: string, blocks = 2048, blockSize: 512 | 4096 = 512): DeviceConfig {
  return {
    name, handler: 'ram', sizeBytes: BigInt(blocks * blockSize), blockSize, writeCache: 'writeback',
    thin: true, readOnly: false,
  };
}

/**
 * A fileio device in a fresh temporary directory. Its writes always go through the file's async
 * path with a sync to stable storage (write-through), so a WRITE stays in flight for a while:
 * task-management tests hold the task set with one. Memory and null stores, and write-back file
 * writes (page cache), complete at once.
 */
export function file(name: string, blocks = 2048): DeviceConfig {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-engine-test-'));
  return {
    name, handler: 'fileio', path: join(dir, `${name}.img`), sizeBytes: BigInt(blocks * 512), blockSize: 512,
    writeCache: 'writethrough', thin: false, readOnly: false,
  };
}

export function target(extra: Partial<TargetConfig> = {}): TargetConfig {
  return {
    driver: 'local', name: TARGET, portals: [], groups: [],
    luns: [{ lun: 0, device: 'disk0', readOnly: false }], ...extra,
  };
}

export async function startTarget(devices = [ram('disk0')], t = target()): Promise<EmbeddedTarget> {
  return EmbeddedTarget.start({ devices, targets: [t] });
}

/** CDB builders written out by hand (never through the engine's own encoders). */
export const cdb = {
  tur: () => [0x00, 0, 0, 0, 0, 0],
  inquiry: (alloc = 96) => [0x12, 0, 0, alloc >> 8, alloc & 0xff, 0],
  requestSense: (alloc = 18) => [0x03, 0, 0, 0, alloc, 0],
  reportLuns: (alloc = 256) => [0xa0, 0, 0, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0],
  read10: (lba: number, blocks: number) => [0x28, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, blocks >> 8, blocks & 0xff, 0],
  write10: (lba: number, blocks: number) => [0x2a, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, blocks >> 8, blocks & 0xff, 0],
  reserve6: () => [0x16, 0, 0, 0, 0, 0],
  release6: () => [0x17, 0, 0, 0, 0, 0],
  readCapacity10: () => [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  modeSelect6Caching: (len: number) => [0x15, 0x10, 0, 0, len, 0],
};

/** Clear the POWER ON/RESET unit attention a new I_T_L nexus starts with. */
export async function clearUa(s: { execute: (lun: number, c: number[]) => Promise<{ status: number }> }, lun = 0): Promise<void> {
  for (let i = 0; i < 8; i++) if ((await s.execute(lun, cdb.tur())).status === 0) return;
  throw new Error('unit attentions did not clear');
}
