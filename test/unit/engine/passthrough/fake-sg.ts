import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NativeError, SgRequest, SgResetKind, SgResult } from '../../../../src/native';
import type { SgDevice } from '../../../../src/engine/backstores/sg';
import type { DevNumber, HostView } from '../../../../src/engine/backstores/sg-node';

/**
 * A scripted SCSI device behind the sg driver's interface, for the pass-through handler's tests
 * (the device is the test double; the handler under test is the real one). It answers the
 * commands a disk (or, with `type: 1`, a tape drive; 5, a CD/DVD drive; 8, a changer) answers, keeps blocks in memory, records every CDB that
 * reaches it, and lets a test arrange what a real device and host adapter do: a pending unit
 * attention or deferred error (reported once, to whichever command comes first), host and driver errors, commands
 * held in flight, and going away. Sense data is fixed format, written out by hand.
 */

export interface FakeOptions {
  type?: number;
  blockSize?: number;
  blocks?: number;
  /** Block Limits VPD MAXIMUM TRANSFER LENGTH in blocks (0: none reported). */
  maxTransferBlocks?: number;
  /** What the sg driver says the node's queue takes (BLKSECTGET, bytes; 0: it does not say). */
  queueMaxBytes?: number;
  serial?: string;
}

export function fixedSense(key: number, asc: number, ascq: number): Buffer {
  const b = Buffer.alloc(18);
  b[0] = 0x70; b[2] = key; b[7] = 10; b[12] = asc; b[13] = ascq;
  return b;
}

/** SPC-4 4.5.3 fixed format sense, response code 71h: a deferred error. */
export function deferredSense(key: number, asc: number, ascq: number): Buffer {
  const b = fixedSense(key, asc, ascq);
  b[0] = 0x71;
  return b;
}

export class FakeSgDevice implements SgDevice {
  readonly depth = 16;
  readonly type: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly maxTransferBlocks: number;
  readonly maxTransferBytes: number;
  readonly serial: string;
  readonly data: Buffer;
  /** Every CDB that reached the device, in order. */
  readonly received: number[][] = [];
  /** The device's own unit attention, reported to the next command that is not INQUIRY / REPORT LUNS / REQUEST SENSE. */
  pendingUa: [number, number] | undefined;
  /**
   * A deferred error (SPC-4 4.5.5), reported as it is to the next command that is not INQUIRY /
   * REPORT LUNS / REQUEST SENSE, which the device then does not process.
   */
  pendingDeferred: Buffer | undefined;
  /** Host bytes for the next commands (DID_TIME_OUT, DID_NO_CONNECT, ...). */
  readonly hostErrors: number[] = [];
  /** Driver bytes for the next commands. */
  readonly driverErrors: number[] = [];
  /** Hold completions until `release()`. */
  hold = false;
  resets: SgResetKind[] = [];
  gone = false;
  closed = false;
  /** What the vendor-specific commands read and write. */
  vendorLog = Buffer.from('VNDRLOG1', 'latin1');
  private held: Array<() => void> = [];

  constructor(o: FakeOptions = {}) {
    this.type = o.type ?? 0;
    this.blockSize = o.blockSize ?? 512;
    this.blocks = o.blocks ?? 2048;
    this.maxTransferBlocks = o.maxTransferBlocks ?? 0;
    this.maxTransferBytes = o.queueMaxBytes ?? 0;
    this.serial = o.serial ?? 'FAKE0001';
    this.data = Buffer.alloc(this.type === 0 ? this.blockSize * this.blocks : 0);
  }

  /** Opcodes that reached the device. */
  opcodes(): number[] { return this.received.map(c => c[0]); }

  release(): void {
    this.hold = false;
    const h = this.held;
    this.held = [];
    for (const f of h) f();
  }

  submit(req: SgRequest, cb: (r: SgResult | NativeError) => void): void {
    if (this.closed) throw new Error('submit on a closed device');
    this.received.push([...req.cdb]);
    const answer = (): void => cb(this.answer(req));
    setImmediate(() => (this.hold ? this.held.push(answer) : answer()));
  }

  reset(kind: SgResetKind, cb: (r: NativeError | undefined) => void): void {
    this.resets.push(kind);
    // SAM-5 6.3: the reset leaves the device's own unit attention behind.
    this.pendingUa = [0x29, 0x03];
    setImmediate(() => cb(undefined));
  }

  close(): void { this.closed = true; }

  private result(status: number, extra: Partial<SgResult> = {}): SgResult {
    return { status, hostStatus: 0, driverStatus: 0, sense: Buffer.alloc(0), residual: 0, durationMs: 1, direct: false, ...extra };
  }

  private check(key: number, asc: number, ascq: number): SgResult {
    return this.result(0x02, { driverStatus: 0x08, sense: fixedSense(key, asc, ascq) });
  }

  private answer(req: SgRequest): SgResult | NativeError {
    if (this.gone) return this.result(0, { hostStatus: 0x01 });
    const host = this.hostErrors.shift();
    if (host !== undefined) return this.result(0, { hostStatus: host });
    const driver = this.driverErrors.shift();
    if (driver !== undefined) return this.result(0, { driverStatus: driver });
    const c = req.cdb;
    const op = c[0];
    if (this.pendingUa && op !== 0x12 && op !== 0xa0 && op !== 0x03) {
      const [asc, ascq] = this.pendingUa;
      this.pendingUa = undefined;
      return this.check(0x06, asc, ascq);
    }
    if (this.pendingDeferred && op !== 0x12 && op !== 0xa0 && op !== 0x03) {
      const sense = this.pendingDeferred;
      this.pendingDeferred = undefined;
      return this.result(0x02, { driverStatus: 0x08, sense });
    }
    const out = req.data;
    const give = (bytes: Buffer | number[]): SgResult => {
      const b = Buffer.from(bytes);
      const n = Math.min(b.length, out?.length ?? 0);
      if (out) out.set(b.subarray(0, n));
      return this.result(0, { residual: (out?.length ?? 0) - n });
    };
    const be32 = (at: number): number => Buffer.from(c).readUInt32BE(at);
    switch (op) {
      case 0x00: return this.result(0); // TEST UNIT READY
      case 0x12: return give(this.inquiry(c));
      case 0x9e: { // READ CAPACITY(16)
        const b = Buffer.alloc(32);
        b.writeBigUInt64BE(BigInt(this.blocks - 1), 0);
        b.writeUInt32BE(this.blockSize, 8);
        return give(b);
      }
      case 0x25: {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(this.blocks - 1, 0); b.writeUInt32BE(this.blockSize, 4);
        return give(b);
      }
      case 0x05: return give([0x00, 0x00, 0xff, 0xff, 0x00, 0x01]); // READ BLOCK LIMITS: 64 KiB
      case 0x28: case 0x88: { // READ(10), READ(16)
        const lba = op === 0x28 ? be32(2) : Number(Buffer.from(c).readBigUInt64BE(2));
        const n = op === 0x28 ? Buffer.from(c).readUInt16BE(7) : be32(10);
        if (lba + n > this.blocks) return this.check(0x05, 0x21, 0x00);
        return give(this.data.subarray(lba * this.blockSize, (lba + n) * this.blockSize));
      }
      case 0x2a: case 0x8a: { // WRITE(10), WRITE(16)
        const lba = op === 0x2a ? be32(2) : Number(Buffer.from(c).readBigUInt64BE(2));
        const n = op === 0x2a ? Buffer.from(c).readUInt16BE(7) : be32(10);
        if (lba + n > this.blocks) return this.check(0x05, 0x21, 0x00);
        this.data.set(req.data!.subarray(0, n * this.blockSize), lba * this.blockSize);
        return this.result(0);
      }
      case 0x35: return this.result(0); // SYNCHRONIZE CACHE(10)
      case 0x15: case 0x55: return this.result(0); // MODE SELECT
      // A CD/DVD drive's READ TOC/PMA/ATIP (MMC-6): a header only. A changer's MOVE MEDIUM (SMC-3 6.6): done.
      case 0x43: return this.type === 5 ? give([0, 2, 1, 1]) : this.check(0x05, 0x20, 0x00);
      case 0xa5: return this.type === 8 ? this.result(0) : this.check(0x05, 0x20, 0x00);
      case 0x1a: return give([3, 0, 0, 0]); // MODE SENSE(6): header only
      // Vendor-specific commands of this device: C1h reads its 8-byte log, C2h writes it, C3h clears it.
      case 0xc1: return give(this.vendorLog);
      case 0xc2: this.vendorLog = Buffer.from(req.data!); return this.result(0);
      case 0xc3: this.vendorLog = Buffer.alloc(8); return this.result(0);
      default: return this.check(0x05, 0x20, 0x00);
    }
  }

  private inquiry(c: Uint8Array): Buffer {
    const evpd = (c[1] & 1) !== 0;
    const page = c[2];
    const t = this.type;
    if (!evpd) {
      const b = Buffer.alloc(96);
      // as scsi_debug: VERSION 07h (SPC-5), TPGS 01b, MULTIP, version descriptors SAM-6, SPC-5, SBC-4
      b[0] = t; b[1] = t === 1 ? 0x80 : 0; b[2] = 0x07; b[3] = 0x22; b[4] = 91; b[5] = 0x10; b[6] = 0x10; b[7] = 0x00;
      b.writeUInt16BE(0x00c0, 58); b.writeUInt16BE(0x05c0, 60); b.writeUInt16BE(0x0600, 62);
      b.write('FAKE    ', 8, 'latin1'); b.write('SG DEVICE       ', 16, 'latin1'); b.write('0001', 32, 'latin1');
      return b;
    }
    switch (page) {
      case 0x00: return Buffer.from([t, 0x00, 0x00, 0x04, 0x00, 0x80, 0x83, 0xb0]);
      case 0x80: return Buffer.concat([Buffer.from([t, 0x80, 0x00, this.serial.length]), Buffer.from(this.serial, 'latin1')]);
      case 0x83: return Buffer.from([
        t, 0x83, 0x00, 28,
        // NAA 6 designator of the logical unit: binary, association 00b, type 3, 16 bytes
        0x01, 0x03, 0x00, 0x10, 0x60, 0x0f, 0xac, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        // the device's own relative target port on this host's adapter: association 01b, type 4
        0x61, 0x94, 0x00, 0x04, 0, 0, 0, 7,
      ]);
      case 0xb0: {
        const b = Buffer.alloc(64);
        b[0] = t; b[1] = 0xb0; b.writeUInt16BE(60, 2);
        b.writeUInt32BE(this.maxTransferBlocks, 8);
        return b;
      }
      default: return Buffer.from([]);
    }
  }
}

/**
 * A sysfs, /dev and /proc of one SCSI disk `sda` (sg0, 0:0:0:0, queue depth 8, max_hw_sectors_kb
 * `maxKb`) with one partition, in a temporary directory, and the device numbers of its nodes.
 * With `noBlockDriver` the SCSI device has its sg node only (no sd bound: no `block/`, no queue
 * directory), as a tape drive or a changer has.
 */
export function fakeHost(o: { maxKb?: number; mounted?: boolean; holder?: boolean; swap?: boolean; noBlockDriver?: boolean } = {}): HostView {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-sgnode-'));
  const sys = path.join(root, 'sys');
  const dev = path.join(root, 'dev');
  const proc = path.join(root, 'proc');
  const sdev = path.join(sys, 'devices', 'host0', '0:0:0:0');
  const mk = (p: string): void => { fs.mkdirSync(p, { recursive: true }); };
  mk(path.join(sdev, 'scsi_generic', 'sg0'));
  fs.symlinkSync(sdev, path.join(sdev, 'scsi_generic', 'sg0', 'device'));
  fs.writeFileSync(path.join(sdev, 'queue_depth'), '8\n');
  const sda = path.join(sdev, 'block', 'sda');
  mk(path.join(sda, 'queue'));
  mk(path.join(sda, 'holders'));
  mk(path.join(sda, 'sda1', 'holders'));
  fs.writeFileSync(path.join(sda, 'sda1', 'partition'), '1\n');
  if (o.holder) fs.symlinkSync(sda, path.join(sda, 'sda1', 'holders', 'dm-0'));
  fs.symlinkSync(sdev, path.join(sda, 'device'));
  fs.writeFileSync(path.join(sda, 'queue', 'max_hw_sectors_kb'), `${o.maxKb ?? 1024}\n`);
  // sd's own limit for its I/O, lower: not the pass-through limit
  fs.writeFileSync(path.join(sda, 'queue', 'max_sectors_kb'), '256\n');
  mk(path.join(sys, 'block'));
  fs.symlinkSync(sda, path.join(sys, 'block', 'sda'));
  mk(path.join(sys, 'dev', 'char'));
  mk(path.join(sys, 'dev', 'block'));
  fs.symlinkSync(path.join(sdev, 'scsi_generic', 'sg0'), path.join(sys, 'dev', 'char', '21:0'));
  fs.symlinkSync(sda, path.join(sys, 'dev', 'block', '8:0'));
  fs.symlinkSync(path.join(sda, 'sda1'), path.join(sys, 'dev', 'block', '8:1'));
  mk(path.join(proc, 'self'));
  mk(dev);
  fs.writeFileSync(path.join(proc, 'self', 'mounts'), `proc /proc proc rw 0 0\n${o.mounted ? `${dev}/sda1 /srv ext4 rw 0 0\n` : ''}`);
  fs.writeFileSync(path.join(proc, 'swaps'), `Filename Type Size Used Priority\n${o.swap ? `${dev}/sda partition 1024 0 -2\n` : ''}`);
  if (o.noBlockDriver) {
    fs.rmSync(path.join(sdev, 'block'), { recursive: true });
    fs.rmSync(path.join(sys, 'block', 'sda'));
  }
  const numbers: Record<string, DevNumber> = {
    '/dev/sg0': { kind: 'char', major: 21, minor: 0 },
    '/dev/sda': { kind: 'block', major: 8, minor: 0 },
    '/dev/disk/by-id/scsi-fake': { kind: 'block', major: 8, minor: 0 },
    '/dev/sda1': { kind: 'block', major: 8, minor: 1 },
    '/dev/null': { kind: 'char', major: 1, minor: 3 },
  };
  return {
    sys, dev, proc,
    statDev: p => {
      if (p in numbers) return numbers[p];
      if (p === '/dev/missing') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return undefined;
    },
  };
}
