// The pure pieces of the full feature phase: CmdSN window, Data-Out collection with R2Ts,
// Data-In planning and SendTargets text.
import { expect } from 'chai';
import { CmdSnWindow } from '../../../src/transports/iscsi/cmdsn-window';
import { DataOutCollector } from '../../../src/transports/iscsi/data-out';
import { planDataIn, planDataInInto } from '../../../src/transports/iscsi/data-in';
import { sendTargets } from '../../../src/transports/iscsi/discovery';
import { ResidualKind } from '../../../src/engine/command';
import { Status } from '../../../src/engine/spec/status';

describe('CmdSN window (RFC 7143 3.2.2.1)', () => {
  it('runs in CmdSN order, holds past a gap, drops outside [ExpCmdSN, MaxCmdSN]', () => {
    const w = new CmdSnWindow(10, 3);
    const ran: number[] = [];
    expect(w.maxCmdSN).to.equal(12);
    expect(w.admit(13, false)).to.equal('drop');
    expect(w.admit(9, false)).to.equal('drop');
    w.enqueue(11, true, () => ran.push(11));
    expect(ran).to.deep.equal([]);
    expect(w.expCmdSN).to.equal(10);
    w.enqueue(10, true, () => ran.push(10));
    expect(ran).to.deep.equal([10, 11]);
    expect(w.expCmdSN).to.equal(12);
    expect(w.admit(11, false)).to.equal('drop'); // already received
    w.finished();
    expect(w.maxCmdSN).to.equal(13);
  });

  it('waits for a command that is not ready and wraps at 2^32', () => {
    const w = new CmdSnWindow(0xffffffff, 4);
    const ran: number[] = [];
    w.enqueue(0xffffffff, false, () => ran.push(0xffffffff));
    w.enqueue(0, true, () => ran.push(0));
    expect(ran).to.deep.equal([]);
    expect(w.expCmdSN).to.equal(1);
    w.markReady(0xffffffff);
    expect(ran).to.deep.equal([0xffffffff, 0]);
    expect(w.maxCmdSN).to.equal(2);
    expect(w.admit(2, false)).to.equal('accept');
    expect(w.admit(3, false)).to.equal('drop');
    expect(w.admit(3, true)).to.equal('accept'); // immediate commands bypass the window
  });
});

describe('Data-Out collection (RFC 7143 3.2.4.2, 11.7, 11.8)', () => {
  const params = { initialR2T: false, immediateData: true, firstBurstLength: 1000, maxBurstLength: 3000, maxOutstandingR2T: 2 };
  let ttt = 100;
  const alloc = (): number => ttt++;

  it('takes immediate data, unsolicited data to FirstBurstLength, then R2Ts of MaxBurstLength', () => {
    const s = DataOutCollector.start(8000, Buffer.alloc(400, 1), true, params, alloc);
    if (!s.ok) throw new Error(s.reason);
    expect(s.r2ts.map((r) => [r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).to.deep.equal([[0, 1000, 3000], [1, 4000, 3000]]);
    const c = s.collector;
    // The R2T list is the planner's, reused by the next accept(): taken before it.
    const [a, b] = s.r2ts;
    expect(c.accept({ ttt: 0xffffffff, dataSN: 0, bufferOffset: 400, final: true, data: Buffer.alloc(600, 2) })).to.deep.include({ ok: true, complete: false });
    let r = c.accept({ ttt: a.ttt, dataSN: 0, bufferOffset: 1000, final: true, data: Buffer.alloc(3000, 3) });
    if (!r.ok) throw new Error(r.reason);
    expect(r.r2ts.map((x) => [x.r2tSN, x.bufferOffset, x.desiredDataTransferLength])).to.deep.equal([[2, 7000, 1000]]);
    const third = r.r2ts[0];
    expect(c.accept({ ttt: b.ttt, dataSN: 1, bufferOffset: 4000, final: true, data: Buffer.alloc(3000) })).to.deep.include({ ok: false });
    c.accept({ ttt: b.ttt, dataSN: 0, bufferOffset: 4000, final: false, data: Buffer.alloc(1500, 4) });
    c.accept({ ttt: b.ttt, dataSN: 1, bufferOffset: 5500, final: true, data: Buffer.alloc(1500, 4) });
    r = c.accept({ ttt: third.ttt, dataSN: 0, bufferOffset: 7000, final: true, data: Buffer.alloc(1000, 5) });
    expect(r).to.deep.include({ ok: true, complete: true });
    expect([c.buffer[0], c.buffer[399], c.buffer[400], c.buffer[1000], c.buffer[4000], c.buffer[7999]]).to.deep.equal([1, 1, 2, 3, 4, 5]);
  });

  it('refuses unsolicited Data-Out under InitialR2T=Yes and data past the R2T', () => {
    expect(DataOutCollector.start(100, Buffer.alloc(0), true, { ...params, initialR2T: true }, alloc)).to.deep.include({ ok: false });
    const s = DataOutCollector.start(2000, Buffer.alloc(0), false, params, alloc);
    if (!s.ok) throw new Error(s.reason);
    const [r] = s.r2ts;
    expect(r.bufferOffset).to.equal(0);
    expect(s.collector.accept({ ttt: r.ttt, dataSN: 0, bufferOffset: 0, final: true, data: Buffer.alloc(2004) })).to.deep.include({ ok: false });
    expect(s.collector.accept({ ttt: 0xffffffff, dataSN: 0, bufferOffset: 0, final: true, data: Buffer.alloc(4) })).to.deep.include({ ok: false });
  });
});

describe('Data-In planning (RFC 7143 11.7)', () => {
  it('splits by MaxRecvDataSegmentLength, F per burst, S only with GOOD and no sense', () => {
    const c = { status: Status.GOOD, data: Buffer.alloc(10), residualKind: ResidualKind.NONE, residual: 0 };
    const p = planDataIn(c, 3, 6);
    expect(p.pdus.map((x) => [x.offset, x.length, x.final, x.status])).to.deep.equal([
      [0, 3, false, false], [3, 3, true, false], [6, 3, false, false], [9, 1, true, true],
    ]);
    expect(p.response).to.equal(false);
    const cc = planDataIn({ ...c, status: Status.CHECK_CONDITION, sense: Buffer.alloc(18) }, 8, 8);
    expect(cc.pdus.map((x) => x.status)).to.deep.equal([false, false]);
    expect(cc.response).to.equal(true);
  });

  it('a reused plan keeps its PDU entries: a read of the same shape allocates none', () => {
    const c = { status: Status.GOOD, data: Buffer.alloc(10), residualKind: ResidualKind.NONE, residual: 0 };
    const plan = planDataInInto({ pdus: [], count: 0, response: false }, c, 3, 6);
    const first = plan.pdus[0];
    expect(plan.count).to.equal(4);
    planDataInInto(plan, { ...c, data: Buffer.alloc(4) }, 3, 6);
    expect(plan.count).to.equal(2);
    expect(plan.pdus.slice(0, 2).map((x) => [x.offset, x.length, x.final, x.status])).to.deep.equal([[0, 3, false, false], [3, 1, true, true]]);
    planDataInInto(plan, c, 3, 6);
    expect(plan.count).to.equal(4);
    expect(plan.pdus[0]).to.equal(first);
    expect(plan.pdus.map((x) => [x.offset, x.length, x.final, x.status])).to.deep.equal([
      [0, 3, false, false], [3, 3, true, false], [6, 3, false, false], [9, 1, true, true],
    ]);
  });
});

describe('SendTargets (RFC 7143 Appendix C)', () => {
  const src = {
    targets: () => [
      { name: 'iqn.a', portals: [{ host: '127.0.0.1', port: 3260, tpgt: 1 }, { host: '::1', port: 3261, tpgt: 3 }] },
      { name: 'iqn.b', portals: [{ host: '127.0.0.1', port: 3260, tpgt: 2 }] },
    ],
    canSee: (t: string, i: string) => t !== 'iqn.b' || i === 'iqn.i2',
  };
  it('lists visible targets with every portal and its portal group tag; a name or the empty value narrows the list', () => {
    expect(sendTargets(src, 'iqn.i1', 'All', undefined)).to.deep.equal([
      ['TargetName', 'iqn.a'], ['TargetAddress', '127.0.0.1:3260,1'], ['TargetAddress', '[::1]:3261,3'],
    ]);
    expect(sendTargets(src, 'iqn.i2', 'iqn.b', undefined)).to.deep.equal([['TargetName', 'iqn.b'], ['TargetAddress', '127.0.0.1:3260,2']]);
    expect(sendTargets(src, 'iqn.i1', 'iqn.b', undefined)).to.deep.equal([]);
    expect(sendTargets(src, 'iqn.i2', '', 'iqn.b').map((x) => x[1])).to.deep.equal(['iqn.b', '127.0.0.1:3260,2']);
  });
});
