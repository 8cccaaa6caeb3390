import * as net from 'node:net';
import * as path from 'node:path';
import type { DeviceConfig, TargetConfig } from '../../../src/engine/topology';

/** Engine-thread entry whose units named slow* take SLOW_MS per I/O (fixtures/slow-store.ts). */
export const SLOW_ENTRY = path.join(__dirname, 'fixtures', 'slow-entry.ts');

export function dev(name: string, handler: DeviceConfig['handler'] = 'ram', blocks = 2048, p?: string): DeviceConfig {
  return {
    name, handler, path: p, sizeBytes: BigInt(blocks * 512), blockSize: 512, writeCache: 'writeback',
    thin: false, readOnly: false,
  };
}

export function tgt(name: string, devices: string[]): TargetConfig {
  return {
    driver: 'local', name, portals: [], groups: [],
    luns: devices.map((d, i) => ({ lun: i, device: d, readOnly: false })),
  };
}

/** Block `lba` filled with a byte pattern distinct per (lba, seed), built by hand. */
export function block(lba: number, seed: number, blocks = 1): Buffer {
  const b = Buffer.alloc(512 * blocks);
  for (let i = 0; i < b.length; i++) b[i] = (lba * 31 + seed * 7 + i) & 0xff;
  return b;
}

/** Engine-thread entry whose units named exit* end the thread on demand (fixtures/exit-store.ts). */
export const EXIT_ENTRY = path.join(__dirname, 'fixtures', 'exit-entry.ts');

/** Reads lines a handed-off session answers (bounded waits: 10 s, then returns what there is). */
export class LineClient {
  readonly socket: net.Socket;
  text = '';
  private waiters: (() => void)[] = [];
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', b => { this.text += b.toString('latin1'); this.wake(); });
    this.socket.on('error', () => this.wake());
  }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  async until(pred: () => boolean): Promise<void> {
    const deadline = Date.now() + 10000;
    while (!pred() && Date.now() < deadline) {
      await new Promise<void>(res => { this.waiters.push(res); setTimeout(res, 50); });
    }
  }
}
