// An in-memory socket and a hand-written initiator for driving IscsiConnection byte by byte.
// Initiator PDUs are built here field by field (RFC 7143 11), never with the target's encoders.
import { Duplex } from 'node:stream';
import { Engine } from '../../../src/engine/engine';
import type { Topology } from '../../../src/engine/topology';
import type { IscsiSettings } from '../../../src/transports/iscsi/settings';
import { IscsiConnection } from '../../../src/transports/iscsi/connection';
import { SessionRegistry } from '../../../src/transports/iscsi/session';

export const TARGET = 'iqn.2026-11.io.nexus:unit';
export const INITIATOR = 'iqn.2026-11.example:unit-host';

export const SETTINGS: IscsiSettings = {
  maxRecvDataSegmentLength: 8192, maxBurstLength: 16384, firstBurstLength: 8192, initialR2T: false, immediateData: true,
  maxOutstandingR2T: 2, headerDigest: ['None'], dataDigest: ['None'], nopInIntervalSec: 0, nopInTimeoutSec: 0,
  defaultTime2Wait: 2, defaultTime2Retain: 20, queueDepth: 4,
};

export function topology(): Pick<Topology, 'devices' | 'targets'> {
  return {
    devices: [{ name: 'ram0', handler: 'ram', sizeBytes: 1n << 20n, blockSize: 512, writeCache: 'writeback', thin: false, readOnly: false }],
    targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:3260'], luns: [{ lun: 0, device: 'ram0', readOnly: false }], groups: [] }],
  };
}

/** One side of an in-memory socket: writes by the connection land in `received`. */
export class MemorySocket extends Duplex {
  remoteAddress = 'memory';
  remotePort = 1;
  readonly chunks: Buffer[] = [];
  /**
   * With `slow`, every write completes on a later turn (a peer that is not draining), and the
   * written buffers are also kept by reference in `written`: bytes the target reuses before its
   * write completed show up there changed.
   */
  readonly written: Buffer[] = [];
  /** While set, no write completes (a peer that stopped reading) until `takeHeld()`. */
  hold = false;
  private readonly held: Array<() => void> = [];
  constructor(private readonly slow = false) {
    super();
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    if (this.hold) {
      this.held.push(() => cb());
      return;
    }
    if (!this.slow) {
      cb();
      return;
    }
    this.written.push(chunk);
    setImmediate(() => cb());
  }
  override _final(cb: () => void): void {
    this.push(null);
    cb();
  }
  /** The peer reads again: every held write completes. */
  takeHeld(): void {
    this.hold = false;
    for (const cb of this.held.splice(0)) cb();
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    // A destroyed socket's pending writes fail (as net.Socket's do).
    for (const w of this.held.splice(0)) w();
    cb(err);
  }
  /** Bytes from the initiator. */
  send(b: Buffer): void {
    this.push(b);
  }
}

export interface Pdu {
  op: number;
  b1: number;
  bhs: Buffer;
  data: Buffer;
  u32(o: number): number;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export class Initiator {
  readonly sock: MemorySocket;
  readonly conn: IscsiConnection;
  private offset = 0;
  private buf = Buffer.alloc(0);
  cmdSN = 1;
  itt = 1;
  /** Target PDUs carry a data digest after the padded data segment (DataDigest=CRC32C). */
  dataDigest = false;

  /** `tpgt`: the Target Portal Group Tag of the portal this connection came in on. */
  constructor(readonly engine: Engine, readonly sessions = new SessionRegistry(), settings = SETTINGS, slowSocket = false, tpgt = 1) {
    this.sock = new MemorySocket(slowSocket);
    this.conn = new IscsiConnection(this.sock, {
      engine, settings, sessions, portalTargets: [TARGET], portalGroupTag: () => tpgt, log: silent,
      discovery: { targets: () => [{ name: TARGET, portals: [{ host: '127.0.0.1', port: 3260, tpgt: 1 }, { host: '::1', port: 3260, tpgt: 1 }] }], canSee: () => true },
    });
  }

  /** Wait (bounded) until `n` more target PDUs have arrived, and return them. */
  async take(n: number): Promise<Pdu[]> {
    const out: Pdu[] = [];
    for (let spins = 0; out.length < n && spins < 2000; spins++) {
      const p = this.next();
      if (p) out.push(p);
      else await new Promise((r) => setImmediate(r));
    }
    if (out.length < n) throw new Error(`expected ${n} PDUs, got ${out.length}: ${out.map((p) => p.op.toString(16)).join(',')}`);
    return out;
  }

  /** Let pending work run, then return whatever arrived. */
  async drain(): Promise<Pdu[]> {
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    const out: Pdu[] = [];
    for (let p = this.next(); p; p = this.next()) out.push(p);
    return out;
  }

  private next(): Pdu | undefined {
    if (this.sock.chunks.length > 0) {
      this.buf = Buffer.concat([this.buf.subarray(this.offset), ...this.sock.chunks.splice(0)]);
      this.offset = 0;
    }
    if (this.buf.length - this.offset < 48) return undefined;
    const bhs = this.buf.subarray(this.offset, this.offset + 48);
    const dsl = (bhs[5] << 16) | (bhs[6] << 8) | bhs[7];
    const total = 48 + ((dsl + 3) & ~3) + (this.dataDigest && dsl > 0 ? 4 : 0);
    if (this.buf.length - this.offset < total) return undefined;
    const data = this.buf.subarray(this.offset + 48, this.offset + 48 + dsl);
    this.offset += total;
    return { op: bhs[0] & 0x3f, b1: bhs[1], bhs: Buffer.from(bhs), data: Buffer.from(data), u32: (o: number) => bhs.readUInt32BE(o) };
  }

  /** BHS with opcode (plus immediate bit), byte 1, LUN 0, ITT and data segment; fields set by `f`. */
  pdu(op: number, b1: number, data: Buffer, f: (h: Buffer) => void): Buffer {
    const h = Buffer.alloc(48 + ((data.length + 3) & ~3));
    h[0] = op;
    h[1] = b1;
    h[5] = (data.length >>> 16) & 0xff;
    h[6] = (data.length >>> 8) & 0xff;
    h[7] = data.length & 0xff;
    f(h);
    data.copy(h, 48);
    return h;
  }

  /** RFC 7143 11.12: a single Login Request from operational negotiation straight to FFP. */
  loginBytes(keys: Record<string, string>, isid = 0x80123456789an, tsih = 0, cmdSN = this.cmdSN): Buffer {
    const text = Buffer.from(Object.entries(keys).map(([k, v]) => `${k}=${v}\0`).join(''));
    return this.pdu(0x43, 0x80 | (1 << 2) | 3, text, (h) => {
      h.writeUIntBE(Number(isid), 8, 6);
      h.writeUInt16BE(tsih, 14);
      h.writeUInt32BE(0x1000, 16); // ITT
      h.writeUInt16BE(1, 20); // CID
      h.writeUInt32BE(cmdSN, 24);
      h.writeUInt32BE(0, 28);
    });
  }

  async login(extra: Record<string, string> = {}, cmdSN = 1): Promise<Pdu> {
    this.cmdSN = cmdSN;
    this.sock.send(this.loginBytes({
      InitiatorName: INITIATOR, TargetName: TARGET, SessionType: 'Normal', MaxRecvDataSegmentLength: '4096',
      InitialR2T: 'No', ImmediateData: 'Yes', MaxBurstLength: '16384', FirstBurstLength: '8192', MaxOutstandingR2T: '2',
      ErrorRecoveryLevel: '0', HeaderDigest: 'None', DataDigest: 'None', ...extra,
    }));
    const [r] = await this.take(1);
    return r;
  }

  /** RFC 7143 11.3: SCSI Command. */
  command(cdb: number[], o: { read?: boolean; write?: boolean; edtl: number; final?: boolean; data?: Buffer; immediate?: boolean; cmdSN?: number; itt?: number; attr?: number }): { bytes: Buffer; itt: number; cmdSN: number } {
    const itt = o.itt ?? this.itt++;
    const cmdSN = o.cmdSN ?? (o.immediate ? this.cmdSN : this.cmdSN++);
    // RFC 7143 11.3.1: ATTR, 1 SIMPLE (the default here), 2 ORDERED, 3 HEAD OF QUEUE.
    const b1 = (o.final === false ? 0 : 0x80) | (o.read ? 0x40 : 0) | (o.write ? 0x20 : 0) | (o.attr ?? 1);
    const bytes = this.pdu(0x01 | (o.immediate ? 0x40 : 0), b1, o.data ?? Buffer.alloc(0), (h) => {
      h.writeUInt32BE(itt, 16);
      h.writeUInt32BE(o.edtl, 20);
      h.writeUInt32BE(cmdSN, 24);
      Buffer.from(cdb).copy(h, 32);
    });
    return { bytes, itt, cmdSN };
  }

  /** RFC 7143 11.7: SCSI Data-Out. */
  dataOut(itt: number, ttt: number, dataSN: number, offset: number, data: Buffer, final: boolean): Buffer {
    return this.pdu(0x05, final ? 0x80 : 0, data, (h) => {
      h.writeUInt32BE(itt, 16);
      h.writeUInt32BE(ttt, 20);
      h.writeUInt32BE(dataSN, 36);
      h.writeUInt32BE(offset, 40);
    });
  }
}

export async function makeEngine(topo: Pick<Topology, 'devices' | 'targets'> = topology()): Promise<Engine> {
  return Engine.create(topo);
}

/** CRC32C (Castagnoli, reflected polynomial 0x82F63B78) bit by bit, independent of the target's tables. */
export function crc32cBitwise(b: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of b) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
