// One initiator that withholds its Data-Out must not stall another (issue: a well-behaved session
// hung beside a fuzzer). Two sessions on one logical unit, driven with hand-built PDUs
// (RFC 7143 11.3, 11.7, 11.8): the hostile one sends a WRITE, gets its R2T and stays silent; the
// well-behaved one writes and reads the same and other blocks and must be answered at once.
import { expect } from 'chai';
import { Engine } from '../../../src/engine/engine';
import { Initiator, Pdu, SETTINGS, makeEngine } from './harness';

const OP = { SCSI_RESP: 0x21, DATA_IN: 0x25, R2T: 0x31 };
/** RFC 7143 11.3.1 ATTR. */
const ATTR = { SIMPLE: 1, ORDERED: 2, HEAD_OF_QUEUE: 3 };
const TUR = [0, 0, 0, 0, 0, 0];
const write10 = (lba: number, blocks: number): number[] => [0x2a, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];
const read10 = (lba: number, blocks: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function session(engine: Engine, name: string, ini?: Initiator, settings = SETTINGS): Promise<Initiator> {
  const s = new Initiator(engine, ini?.sessions, settings);
  const r = await s.login({ InitiatorName: name });
  expect(r.bhs[36]).to.equal(0); // Status-Class: success
  // The first command reports the power-on unit attention.
  const t = s.command(TUR, { edtl: 0 });
  s.sock.send(t.bytes);
  await s.take(1);
  return s;
}

/** A write with all of its data immediate, then a read of the same blocks: both GOOD, the bytes back. */
async function writeAndVerify(s: Initiator, lba: number, seed: number): Promise<void> {
  const data = pattern(4096, seed);
  const w = s.command(write10(lba, 8), { write: true, edtl: 4096, data });
  s.sock.send(w.bytes);
  const [wr] = await s.take(1);
  expect(wr.op).to.equal(OP.SCSI_RESP);
  expect(wr.bhs[3]).to.equal(0);
  const r = s.command(read10(lba, 8), { read: true, edtl: 4096 });
  s.sock.send(r.bytes);
  const [di] = await s.take(1);
  expect(di.op).to.equal(OP.DATA_IN);
  expect(di.data.equals(data)).to.equal(true);
}

/** The hostile session's WRITE of 16 blocks at `lba`, solicited by an R2T whose Data-Out never comes. */
async function withheldWrite(h: Initiator, lba: number, attr: number): Promise<{ itt: number; r2t: Pdu }> {
  const w = h.command(write10(lba, 16), { write: true, edtl: 8192, attr });
  h.sock.send(w.bytes);
  const [r2t] = await h.take(1);
  expect(r2t.op).to.equal(OP.R2T);
  return { itt: w.itt, r2t };
}

describe('iSCSI: an initiator that withholds Data-Out stalls no other session', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  for (const [name, attr] of [['SIMPLE', ATTR.SIMPLE], ['ORDERED', ATTR.ORDERED], ['HEAD OF QUEUE', ATTR.HEAD_OF_QUEUE]] as const) {
    it(`a WRITE (${name}) waiting for Data-Out: another session writes and reads the same and other blocks meanwhile`, async () => {
      const hostile = await session(engine, 'iqn.2026-11.example:hostile');
      const good = await session(engine, 'iqn.2026-11.example:good', hostile);
      const w = await withheldWrite(hostile, 8, attr);
      // Same blocks, then others, each verified (Initiator.take gives up after a bounded wait).
      await writeAndVerify(good, 8, 1);
      await writeAndVerify(good, 200, 2);
      await writeAndVerify(good, 12, 3);
      // SAM-5 8.6: once its data is in, the hostile write enters the task set and completes too.
      const data = pattern(8192, 9);
      hostile.sock.send(hostile.dataOut(w.itt, w.r2t.u32(20), 0, 0, data, true));
      const [resp] = await hostile.take(1);
      expect(resp.op).to.equal(OP.SCSI_RESP);
      expect(resp.u32(16)).to.equal(w.itt);
      expect(resp.bhs[3]).to.equal(0);
      const r = good.command(read10(8, 8), { read: true, edtl: 4096 });
      good.sock.send(r.bytes);
      const [di] = await good.take(1);
      expect(di.data.equals(data.subarray(0, 4096))).to.equal(true);
    });
  }

  it('ORDERED from one session still orders the unit for another once its data is in (SAM-5 8.6.3)', async () => {
    const a = await session(engine, 'iqn.2026-11.example:a');
    const b = await session(engine, 'iqn.2026-11.example:b', a);
    // A's ORDERED write with all of its data immediate enters the task set at once, behind nothing.
    // B's SIMPLE write of the same blocks after it must observe it: B's data is what is read back.
    const da = pattern(4096, 21);
    const db = pattern(4096, 22);
    const wa = a.command(write10(300, 8), { write: true, edtl: 4096, data: da, attr: ATTR.ORDERED });
    a.sock.send(wa.bytes);
    const [ra] = await a.take(1);
    expect(ra.bhs[3]).to.equal(0);
    const wb = b.command(write10(300, 8), { write: true, edtl: 4096, data: db });
    b.sock.send(wb.bytes);
    const [rb] = await b.take(1);
    expect(rb.bhs[3]).to.equal(0);
    const r = a.command(read10(300, 8), { read: true, edtl: 4096 });
    a.sock.send(r.bytes);
    const [di] = await a.take(1);
    expect(di.data.equals(db)).to.equal(true);
  });

  it('within one session an ORDERED command waits for the older write whose Data-Out is in transfer', async () => {
    const s = await session(engine, 'iqn.2026-11.example:one');
    const w = await withheldWrite(s, 400, ATTR.SIMPLE);
    // SAM-5 8.6.3: the ORDERED READ of the same blocks comes after the write in command order; it
    // must see the write's data, so it is not answered before the write's Data-Out arrives.
    const r = s.command(read10(400, 8), { read: true, edtl: 4096, attr: ATTR.ORDERED });
    s.sock.send(r.bytes);
    expect(await s.drain()).to.have.length(0);
    const data = pattern(8192, 41);
    s.sock.send(s.dataOut(w.itt, w.r2t.u32(20), 0, 0, data, true));
    const [resp, di] = await s.take(2);
    expect(resp.op).to.equal(OP.SCSI_RESP);
    expect(resp.u32(16)).to.equal(w.itt);
    expect(di.op).to.equal(OP.DATA_IN);
    expect(di.data.equals(data.subarray(0, 4096))).to.equal(true);
  });

  describe('Data-Out timeout (dataOutTimeoutSec)', () => {
    const fast = { ...SETTINGS, dataOutTimeoutSec: 0.15 };

    it('a connection that withholds Data-Out is dropped after the timeout, its write never executed; the other session is untouched', async () => {
      const hostile = await session(engine, 'iqn.2026-11.example:hostile', undefined, fast);
      const good = await session(engine, 'iqn.2026-11.example:good', hostile, fast);
      const before = pattern(4096, 51);
      await writeAndVerify(good, 500, 51);
      const t0 = performance.now();
      await withheldWrite(hostile, 500, ATTR.ORDERED);
      await writeAndVerify(good, 600, 52);
      // RFC 7143 7.1.4.1 at ERL 0: the connection goes; closed resolves once its tasks quiesced.
      await Promise.race([hostile.conn.closed, new Promise((_, no) => setTimeout(() => no(new Error('not dropped')), 2000))]);
      const waited = performance.now() - t0;
      expect(waited).to.be.greaterThanOrEqual(140);
      expect(waited).to.be.lessThan(1500);
      // The withheld write did not reach the medium; the good session still reads its own data.
      const r = good.command(read10(500, 8), { read: true, edtl: 4096 });
      good.sock.send(r.bytes);
      const [di] = await good.take(1);
      expect(di.data.equals(before)).to.equal(true);
      // The same initiator logs in again and works.
      const again = await session(engine, 'iqn.2026-11.example:hostile', hostile, fast);
      await writeAndVerify(again, 700, 53);
    });

    it('a slow write whose Data-Out keeps arriving within the timeout completes', async () => {
      const s = await session(engine, 'iqn.2026-11.example:slow', undefined, fast);
      const w = await withheldWrite(s, 800, ATTR.SIMPLE);
      const data = pattern(8192, 61);
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 80));
        s.sock.send(s.dataOut(w.itt, w.r2t.u32(20), i, i * 2048, data.subarray(i * 2048, (i + 1) * 2048), i === 3));
      }
      const [resp] = await s.take(1);
      expect(resp.op).to.equal(OP.SCSI_RESP);
      expect(resp.bhs[3]).to.equal(0);
    });
  });

  describe('Data-Out budget per session (maxDataOutMiBPerSession)', () => {
    const small = { ...SETTINGS, maxDataOutMiBPerSession: 1 };

    it('SAM-5 5.3.1: a write past the budget with nothing else in progress is BUSY, not solicited', async () => {
      const s = await session(engine, 'iqn.2026-11.example:big', undefined, small);
      const w = s.command(write10(0, 4096), { write: true, edtl: 2 << 20 });
      s.sock.send(w.bytes);
      const [r] = await s.take(1);
      expect(r.op).to.equal(OP.SCSI_RESP);
      expect(r.u32(16)).to.equal(w.itt);
      expect(r.bhs[3]).to.equal(0x08); // BUSY
    });

    it('SAM-5 5.3.1: past the budget with writes in transfer the answer is TASK SET FULL; once one ends there is room again', async () => {
      const s = await session(engine, 'iqn.2026-11.example:many', undefined, small);
      const a = s.command(write10(0, 2048), { write: true, edtl: 1 << 20 });
      s.sock.send(a.bytes);
      const first = await s.take(2); // MaxOutstandingR2T 2
      expect(first.map((p) => p.op)).to.deep.equal([OP.R2T, OP.R2T]);
      const c = s.command(write10(952, 8), { write: true, edtl: 4096, data: pattern(4096, 71) });
      s.sock.send(c.bytes);
      const [full] = await s.take(1);
      expect(full.op).to.equal(OP.SCSI_RESP);
      expect(full.u32(16)).to.equal(c.itt);
      expect(full.bhs[3]).to.equal(0x28); // TASK SET FULL
      // The 1 MiB write's Data-Out, one R2T at a time (RFC 7143 11.8: offset and length from the R2T).
      const data = pattern(1 << 20, 72);
      const pending = [...first];
      for (;;) {
        const p = pending.shift() ?? (await s.take(1))[0];
        if (p.op === OP.SCSI_RESP) {
          expect(p.u32(16)).to.equal(a.itt);
          expect(p.bhs[3]).to.equal(0);
          break;
        }
        expect(p.op).to.equal(OP.R2T);
        const off = p.u32(40);
        const len = p.u32(44);
        // In PDUs of at most the target's MaxRecvDataSegmentLength (8192 here), DataSN from 0.
        for (let o = 0, sn = 0; o < len; o += 8192, sn++) {
          const n = Math.min(8192, len - o);
          s.sock.send(s.dataOut(a.itt, p.u32(20), sn, off + o, data.subarray(off + o, off + o + n), o + n === len));
        }
      }
      await writeAndVerify(s, 100, 73);
    });
  });
});
