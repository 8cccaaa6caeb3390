// The Data-In budget of a session (maxDataInMiBPerSession): a read reserves its Expected Data
// Transfer Length before it reaches the engine and gives it back once its Data-In is written, so
// an initiator that stops reading its responses holds a bounded amount of read buffers.
import { expect } from 'chai';
import { Engine } from '../../../src/engine/engine';
import { Initiator, SETTINGS, makeEngine } from './harness';

const OP = { SCSI_RESP: 0x21, DATA_IN: 0x25 };
const STATUS = { GOOD: 0, BUSY: 0x08, TASK_SET_FULL: 0x28 };
const KIB512 = 512 * 1024;
const read10 = (lba: number, blocks: number): number[] => [0x28, 0, 0, 0, (lba >> 8) & 0xff, lba & 0xff, 0, (blocks >> 8) & 0xff, blocks & 0xff, 0];
const TUR = [0, 0, 0, 0, 0, 0];
const SMALL = { ...SETTINGS, maxDataInMiBPerSession: 1 };

async function session(engine: Engine): Promise<Initiator> {
  const s = new Initiator(engine, undefined, SMALL);
  const r = await s.login({ InitiatorName: 'iqn.2026-11.example:reader' });
  expect(r.bhs[36]).to.equal(0);
  // The first command reports the power-on unit attention.
  s.sock.send(s.command(TUR, { edtl: 0 }).bytes);
  await s.take(1);
  return s;
}

/** Every PDU up to the one that ends the task `itt` (the Data-In with S, or its SCSI Response). */
async function untilStatus(s: Initiator, itt: number): Promise<{ status: number; bytes: number }> {
  let bytes = 0;
  for (;;) {
    const [p] = await s.take(1);
    expect(p.u32(16)).to.equal(itt);
    if (p.op === OP.DATA_IN) {
      bytes += p.data.length;
      if (p.b1 & 0x01) return { status: p.bhs[3], bytes };
    } else {
      expect(p.op).to.equal(OP.SCSI_RESP);
      return { status: p.bhs[3], bytes };
    }
  }
}

/** Let the engine and the connection run (PDUs stay unparsed for the next take). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

describe('iSCSI: Data-In budget per session (maxDataInMiBPerSession)', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('SAM-5 5.3.1: a read past the budget with nothing else in progress is BUSY, never executed', async () => {
    const s = await session(engine);
    const r = s.command(read10(0, 2048), { read: true, edtl: 2 << 20 });
    s.sock.send(r.bytes);
    const res = await untilStatus(s, r.itt);
    expect(res).to.deep.equal({ status: STATUS.BUSY, bytes: 0 });
    expect(s.conn.heldBuffers.dataIn).to.equal(0);
  });

  it('SAM-5 5.3.1: past the budget with reads in progress the answer is TASK SET FULL; the budget comes back once their Data-In is written', async () => {
    const s = await session(engine);
    const a = s.command(read10(0, 1024), { read: true, edtl: KIB512 });
    const b = s.command(read10(1024, 1024), { read: true, edtl: KIB512 });
    const c = s.command(read10(0, 8), { read: true, edtl: 4096 });
    s.sock.send(Buffer.concat([a.bytes, b.bytes, c.bytes]));
    // C arrives while A and B hold the whole 1 MiB: refused, answered in CmdSN order.
    expect(await untilStatus(s, a.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: KIB512 });
    expect(await untilStatus(s, b.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: KIB512 });
    expect(await untilStatus(s, c.itt)).to.deep.equal({ status: STATUS.TASK_SET_FULL, bytes: 0 });
    await s.drain();
    expect(s.conn.heldBuffers.dataIn).to.equal(0);
    const again = s.command(read10(0, 8), { read: true, edtl: 4096 });
    s.sock.send(again.bytes);
    expect(await untilStatus(s, again.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: 4096 });
  });

  it('reads whose Data-In the peer does not take hold the budget until it reads again', async () => {
    const s = await session(engine);
    s.sock.hold = true;
    const a = s.command(read10(0, 1024), { read: true, edtl: KIB512 });
    const b = s.command(read10(1024, 1024), { read: true, edtl: KIB512 });
    s.sock.send(Buffer.concat([a.bytes, b.bytes]));
    // Both completed, their Data-In still unwritten: the whole budget stays held.
    await settle();
    expect(s.conn.heldBuffers.dataIn).to.equal(1 << 20);
    s.sock.takeHeld();
    expect(await untilStatus(s, a.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: KIB512 });
    expect(await untilStatus(s, b.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: KIB512 });
    await settle();
    expect(s.conn.heldBuffers.dataIn).to.equal(0);
    const c = s.command(read10(0, 8), { read: true, edtl: 4096 });
    s.sock.send(c.bytes);
    expect(await untilStatus(s, c.itt)).to.deep.equal({ status: STATUS.GOOD, bytes: 4096 });
  });

  it('nothing stays held after the connection drops with Data-In unwritten and reads queued', async () => {
    const s = await session(engine);
    s.sock.hold = true;
    const a = s.command(read10(0, 1024), { read: true, edtl: KIB512 });
    // A CmdSN gap: the read after it is reserved but waits outside the engine.
    s.cmdSN++;
    const b = s.command(read10(1024, 8), { read: true, edtl: 4096 });
    s.sock.send(Buffer.concat([a.bytes, b.bytes]));
    await settle();
    expect(s.conn.heldBuffers.dataIn).to.equal(KIB512 + 4096);
    s.sock.destroy();
    await s.conn.closed;
    await settle();
    expect(s.conn.heldBuffers).to.deep.equal({ dataOut: 0, dataIn: 0 });
  });
});
