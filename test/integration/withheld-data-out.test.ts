// The daemon on loopback: a session that sends a WRITE and withholds its Data-Out next to a
// well-behaved session writing and reading the same and other blocks of the same unit, over real
// sockets, with the units on engine threads (the ring path) and on the main thread. Initiator PDUs
// are built here field by field (RFC 7143 11.3, 11.7, 11.12), never with the target's encoders.
import { expect } from 'chai';
import net from 'node:net';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON } from '../helpers/prereq';

const TARGET = 'iqn.2026-11.io.nexus:withheld';
/** RFC 7143 11.3.1 ATTR. */
const ORDERED = 2;
const HEAD_OF_QUEUE = 3;
/** The longest a well-behaved command may wait. */
const BOUND_MS = 2000;

interface Pdu { op: number; bhs: Buffer; data: Buffer }

/** A hand-written initiator over a real TCP socket. */
class RawInitiator {
  private readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private readonly pdus: Pdu[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  cmdSN = 1;
  itt = 1;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 48) {
        const dsl = this.buf.readUIntBE(5, 3);
        const total = 48 + ((dsl + 3) & ~3);
        if (this.buf.length < total) break;
        this.pdus.push({ op: this.buf[0] & 0x3f, bhs: Buffer.from(this.buf.subarray(0, 48)), data: Buffer.from(this.buf.subarray(48, 48 + dsl)) });
        this.buf = this.buf.subarray(total);
      }
      this.waiter?.();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => { this.closed = true; this.waiter?.(); });
  }

  static connect(port: number): Promise<RawInitiator> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawInitiator(s)));
      s.once('error', reject);
    });
  }

  /** The next target PDU, within `ms`. */
  async next(ms = BOUND_MS): Promise<Pdu> {
    const deadline = Date.now() + ms;
    while (this.pdus.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${ms} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => { clearTimeout(t); r(); };
      });
      this.waiter = undefined;
    }
    return this.pdus.shift()!;
  }

  private pdu(op: number, b1: number, data: Buffer, f: (h: Buffer) => void): void {
    const b = Buffer.alloc(48 + ((data.length + 3) & ~3));
    b[0] = op;
    b[1] = b1;
    b.writeUIntBE(data.length, 5, 3);
    f(b);
    data.copy(b, 48);
    this.sock.write(b);
  }

  /** RFC 7143 11.12: one Login Request from operational negotiation to the full feature phase. */
  async login(name: string): Promise<void> {
    const keys = {
      InitiatorName: name, TargetName: TARGET, SessionType: 'Normal', HeaderDigest: 'None', DataDigest: 'None',
      MaxRecvDataSegmentLength: '65536', InitialR2T: 'Yes', ImmediateData: 'Yes', MaxBurstLength: '262144',
      FirstBurstLength: '65536', MaxOutstandingR2T: '1', ErrorRecoveryLevel: '0',
    };
    const text = Buffer.from(Object.entries(keys).map(([k, v]) => `${k}=${v}\0`).join(''));
    this.pdu(0x43, 0x80 | (1 << 2) | 3, text, (h) => {
      h.writeUIntBE(0x400000000000 + (this.itt & 0xffff), 8, 6);
      h.writeUInt32BE(0x1000, 16);
      h.writeUInt16BE(1, 20);
      h.writeUInt32BE(this.cmdSN, 24);
    });
    const r = await this.next(5000);
    expect(r.op).to.equal(0x23);
    expect(r.bhs[36], 'login status class').to.equal(0);
    expect(r.bhs[1] & 0x80, 'final login response').to.equal(0x80);
  }

  /** RFC 7143 11.3: SCSI Command. */
  command(cdb: number[], o: { read?: boolean; write?: boolean; edtl: number; data?: Buffer; attr?: number }): number {
    const itt = this.itt++;
    const cmdSN = this.cmdSN++;
    this.pdu(0x01, 0x80 | (o.read ? 0x40 : 0) | (o.write ? 0x20 : 0) | (o.attr ?? 1), o.data ?? Buffer.alloc(0), (h) => {
      h.writeUInt32BE(itt, 16);
      h.writeUInt32BE(o.edtl, 20);
      h.writeUInt32BE(cmdSN, 24);
      Buffer.from(cdb).copy(h, 32);
    });
    return itt;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

const write10 = (lba: number, blocks: number): number[] => [0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];
const read10 = (lba: number, blocks: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];

async function session(port: number, name: string): Promise<RawInitiator> {
  const s = await RawInitiator.connect(port);
  await s.login(name);
  // The first command reports the power-on unit attention.
  s.command([0, 0, 0, 0, 0, 0], { edtl: 0 });
  expect((await s.next()).op).to.equal(0x21);
  return s;
}

/** 4 KiB written with immediate data (below FirstBurstLength) and read back, each answered within BOUND_MS. */
async function verifiedRound(s: RawInitiator, lba: number, seed: number): Promise<void> {
  const data = Buffer.alloc(4096, seed & 0xff);
  data.writeUInt32BE(seed, 0);
  s.command(write10(lba, 8), { write: true, edtl: 4096, data });
  const w = await s.next();
  expect(w.op).to.equal(0x21);
  expect(w.bhs[3], `WRITE status, sense ${w.data.toString('hex')}`).to.equal(0);
  s.command(read10(lba, 8), { read: true, edtl: 4096 });
  const r = await s.next();
  expect(r.op).to.equal(0x25);
  expect(r.data.equals(data)).to.equal(true);
}

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`daemon: a session withholding Data-Out stalls no other (engine threads: ${threads})`, function () {
    this.timeout(60000);
    let d: RunningDaemon;

    before(async () => {
      d = await startDaemon({
        iscsi: { dataOutTimeoutSec: 2 },
        devices: [{ name: 'ram0', handler: 'ram', size: '16MiB', blockSize: 512 }],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'ram0' }] }],
      }, { threads });
    });
    after(async () => {
      await d?.stop();
    });

    for (const [what, attr] of [['ORDERED', ORDERED], ['HEAD OF QUEUE', HEAD_OF_QUEUE]] as const) {
      it(`a WRITE (${what}) whose Data-Out never comes: the other session's rounds on the same and other blocks are answered within ${BOUND_MS} ms; the silent connection is dropped after dataOutTimeoutSec`, async () => {
        const hostile = await session(d.port, `iqn.2026-11.example:hostile-${attr}`);
        const good = await session(d.port, `iqn.2026-11.example:good-${attr}`);
        // InitialR2T=Yes: the write gets an R2T and nothing else is sent for it.
        const t0 = Date.now();
        hostile.command(write10(64, 16), { write: true, edtl: 8192, attr });
        expect((await hostile.next()).op).to.equal(0x31);
        let rounds = 0;
        while (!hostile.closed && Date.now() - t0 < 10000) {
          await verifiedRound(good, 64 + (rounds % 2) * 8, rounds + attr * 1000);
          await verifiedRound(good, 1024 + (rounds % 1000) * 8, rounds);
          rounds++;
        }
        // RFC 7143 ERL 0: the silent connection went, about dataOutTimeoutSec after its write.
        expect(hostile.closed).to.equal(true);
        const waited = Date.now() - t0;
        expect(waited).to.be.greaterThan(1500);
        expect(waited).to.be.lessThan(6000);
        expect(rounds).to.be.greaterThan(10);
        good.destroy();
      });
    }
  });
}
