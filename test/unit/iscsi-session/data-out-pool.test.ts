import { expect } from 'chai';
import { checkWriteStart, DataOutBufferPool, DataOutCollector, immediateDataViolation } from '../../../src/transports/iscsi/data-out';

describe('Data-Out buffer pool', () => {
  it('hands out power-of-two buffers of at least the asked length, at least one page', () => {
    const p = new DataOutBufferPool();
    expect(p.take(1).length).to.equal(4096);
    expect(p.take(4096).length).to.equal(4096);
    expect(p.take(4097).length).to.equal(8192);
    expect(p.take(1048576).length).to.equal(1048576);
    expect(p.take(1048577).length).to.equal(2097152);
  });

  it('gives a returned buffer to the next take of its size class, not to another class', () => {
    const p = new DataOutBufferPool();
    const a = p.take(3000);
    a[0] = 0xab;
    p.give(a);
    expect(p.kept).to.equal(1);
    const big = p.take(5000);
    expect(big).to.not.equal(a);
    const again = p.take(4096);
    expect(again).to.equal(a);
    expect(p.kept).to.equal(0);
  });

  it('takeKept reuses a kept buffer of the class and allocates none when there is none', () => {
    const p = new DataOutBufferPool();
    expect(p.takeKept(1 << 20)).to.equal(undefined);
    const a = p.take(1 << 20);
    p.give(a);
    expect(p.takeKept(4096)).to.equal(undefined);
    expect(p.takeKept(1 << 20)).to.equal(a);
    expect(p.kept).to.equal(0);
    expect(p.bytesKept).to.equal(0);
    expect(p.takeKept(1 << 20)).to.equal(undefined);
  });

  it('keeps a buffer of its own memory, never a slice of a larger one', () => {
    const p = new DataOutBufferPool();
    const a = p.take(4096);
    expect(a.byteOffset).to.equal(0);
    expect(a.buffer.byteLength).to.equal(4096);
    p.give(a.subarray(0, 100));
    expect(p.kept).to.equal(0);
  });

  it('bounds what one size class keeps', () => {
    const p = new DataOutBufferPool();
    const bufs = Array.from({ length: 40 }, () => p.take(1 << 20));
    for (const b of bufs) p.give(b);
    expect(p.kept).to.equal(16);
    expect(p.bytesKept).to.equal(16 << 20);
  });

  it('bounds what the connection keeps over every size class together, and keeps one large buffer when it keeps nothing else', () => {
    const p = new DataOutBufferPool();
    // One write of every class from 4 KiB to 32 MiB, all given back: what is kept stays within
    // 16 MiB (each class keeping its own 16 MiB would pin 176 MiB).
    const bufs: Buffer[] = [];
    for (let size = 4096; size <= (32 << 20); size *= 2) bufs.push(p.take(size));
    for (const b of bufs) p.give(b);
    expect(p.bytesKept).to.be.at.most(16 << 20);
    // A stream of 32 MiB writes still reuses its buffer once the lists are empty.
    const q = new DataOutBufferPool();
    const huge = q.take(32 << 20);
    q.give(huge);
    expect(q.take(32 << 20)).to.equal(huge);
    q.give(huge);
    q.give(Buffer.allocUnsafeSlow(32 << 20));
    expect(q.kept).to.equal(1);
  });
});

describe('Write start checks (RFC 7143 11.3.1.1, 13.10, 13.11)', () => {
  const params = { initialR2T: false, immediateData: true, firstBurstLength: 8192, maxBurstLength: 65536, maxOutstandingR2T: 1 };

  it('accepts a write whose data is all immediate, and reports where the unsolicited data ends', () => {
    expect(checkWriteStart(4096, 4096, false, params)).to.deep.equal({ ok: true, unsolicitedEnd: 4096 });
    expect(checkWriteStart(65536, 4096, true, params)).to.deep.equal({ ok: true, unsolicitedEnd: 8192 });
  });

  it('refuses immediate data under ImmediateData=No or beyond FirstBurstLength', () => {
    expect(checkWriteStart(4096, 4096, false, { ...params, immediateData: false })).to.deep.include({ ok: false });
    expect(checkWriteStart(16384, 16384, false, params)).to.deep.include({ ok: false });
    expect(immediateDataViolation(4096, 4096, { ...params, immediateData: false })).to.equal('immediate data with ImmediateData=No');
    expect(immediateDataViolation(16384, 16384, params)).to.equal('immediate data beyond FirstBurstLength');
    expect(immediateDataViolation(100, 200, params)).to.equal('immediate data beyond Expected Data Transfer Length');
    expect(immediateDataViolation(4096, 4096, params)).to.equal(undefined);
  });

  it('a collector restarted for the next write of a reused task starts over: R2TSN 0, new tags, its new buffer', () => {
    let tag = 0x100;
    const c = new DataOutCollector(() => tag++);
    const p = { ...params, maxBurstLength: 4096, maxOutstandingR2T: 2 };
    const first = Buffer.alloc(12288, 0xee);
    const r1 = c.restart(12288, Buffer.alloc(0), false, p, first);
    if (!r1.ok) throw new Error(r1.reason);
    expect(r1.r2ts.map((r) => [r.ttt, r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).to.deep.equal([[0x100, 0, 0, 4096], [0x101, 1, 4096, 4096]]);
    // The first write fails half way (its second burst never comes); the task is reused.
    expect(c.accept({ ttt: 0x100, dataSN: 0, bufferOffset: 0, final: true, data: Buffer.alloc(4096, 1) })).to.deep.include({ ok: true, complete: false });
    const second = Buffer.alloc(8192, 0xee);
    const r2 = c.restart(6000, Buffer.alloc(1000, 7), false, p, second);
    if (!r2.ok) throw new Error(r2.reason);
    expect(c.buffer.buffer).to.equal(second.buffer);
    expect(c.buffer.length).to.equal(6000);
    expect(c.complete).to.equal(false);
    expect(r2.r2ts.map((r) => [r.ttt, r.r2tSN, r.bufferOffset, r.desiredDataTransferLength])).to.deep.equal([[0x103, 0, 1000, 4096], [0x104, 1, 5096, 904]]);
    // A tag of the first write is unknown to the second.
    expect(c.accept({ ttt: 0x101, dataSN: 0, bufferOffset: 4096, final: true, data: Buffer.alloc(4096) })).to.deep.include({ ok: false });
    expect(c.accept({ ttt: 0x103, dataSN: 0, bufferOffset: 1000, final: true, data: Buffer.alloc(4096, 8) })).to.deep.include({ ok: true, complete: false });
    expect(c.accept({ ttt: 0x104, dataSN: 0, bufferOffset: 5096, final: true, data: Buffer.alloc(904, 9) })).to.deep.include({ ok: true, complete: true });
    expect(c.r2tCount).to.equal(2);
    expect([second[0], second[999], second[1000], second[5095], second[5096], second[5999], second[6000]]).to.deep.equal([7, 7, 8, 8, 9, 9, 0xee]);
    // A write refused at its start leaves the collector to the next one.
    expect(c.restart(100, Buffer.alloc(0), true, { ...p, initialR2T: true }, Buffer.alloc(100))).to.deep.include({ ok: false });
  });

  it('assembles into the buffer it is given, viewed at Expected Data Transfer Length', () => {
    const backing = Buffer.alloc(8192, 0xee);
    const s = DataOutCollector.start(6000, Buffer.alloc(1000, 7), false, { ...params, maxBurstLength: 8192 }, () => 5, backing);
    if (!s.ok) throw new Error(s.reason);
    expect(s.collector.buffer.length).to.equal(6000);
    expect(s.collector.buffer.buffer).to.equal(backing.buffer);
    expect(s.r2ts.map((r) => [r.ttt, r.bufferOffset, r.desiredDataTransferLength])).to.deep.equal([[5, 1000, 5000]]);
    const r = s.collector.accept({ ttt: 5, dataSN: 0, bufferOffset: 1000, final: true, data: Buffer.alloc(5000, 9) });
    expect(r).to.deep.include({ ok: true, complete: true });
    expect([backing[0], backing[999], backing[1000], backing[5999], backing[6000]]).to.deep.equal([7, 7, 9, 9, 0xee]);
  });
});
