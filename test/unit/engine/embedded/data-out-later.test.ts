import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Completion } from '../../../../src/engine/command';
import { Status, TaskAttr } from '../../../../src/engine/spec/status';
import { cdb, clearUa, INIT_A, startTarget } from './fixture';

// A transport that is still collecting Data-Out (iSCSI R2T) enters the command in command order and
// supplies the data later: other SIMPLE commands do not wait for it.
describe('Data-Out delivered after submission', () => {
  let t: EmbeddedTarget;
  afterEach(async () => { await t?.stop(); });

  it('a write waiting for its data does not hold a later SIMPLE read; it runs when the data arrives', async () => {
    t = await startTarget();
    const s = t.session(INIT_A);
    await clearUa(s);
    let supply: ((d: Uint8Array | undefined) => void) | undefined;
    const order: string[] = [];
    const write = new Promise<Completion>(res => s.nexus.execute({
      lun: 0, cdb: Uint8Array.from(cdb.write10(4, 1)), tag: 100, attr: TaskAttr.SIMPLE, expectedLength: 512,
      dataOutLater: cb => { supply = cb; },
    }, c => { order.push('write'); res(c); }));
    const read = await s.execute(0, cdb.read10(9, 1));
    order.push('read');
    expect(read.status).to.equal(Status.GOOD);
    expect(supply, 'the write was enabled and asked for its data').to.be.a('function');
    supply!(Buffer.alloc(512, 0x3c));
    expect((await write).status).to.equal(Status.GOOD);
    expect(order).to.deep.equal(['read', 'write']);
    const back = await s.execute(0, cdb.read10(4, 1));
    expect(back.data.every(b => b === 0x3c)).to.equal(true);
  });

  it('a failed transfer ends the command with DATA PHASE ERROR and writes nothing', async () => {
    t = await startTarget();
    const s = t.session(INIT_A);
    await clearUa(s);
    const c = await new Promise<Completion>(res => s.nexus.execute({
      lun: 0, cdb: Uint8Array.from(cdb.write10(4, 1)), tag: 101, attr: TaskAttr.SIMPLE, expectedLength: 512,
      dataOutLater: cb => cb(undefined),
    }, res));
    expect(c.status).to.equal(Status.CHECK_CONDITION);
    expect([c.sense![2] & 0x0f, c.sense![12], c.sense![13]]).to.deep.equal([0x0b, 0x4b, 0x00]);
    const back = await s.execute(0, cdb.read10(4, 1));
    expect(back.data.every(b => b === 0)).to.equal(true);
  });
});
