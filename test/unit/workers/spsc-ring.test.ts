import { expect } from 'chai';
import { SpscRing } from '../../../src/workers/ring/spsc-ring';
import { DescKind, DescriptorCursor, NO_BUFFER } from '../../../src/workers/ring/descriptor';
import { ResidualKind } from '../../../src/engine/command';
import { DESCRIPTOR_BYTES, RING_HEADER_BYTES, RingHeader, assertLayout } from '../../../src/workers/ring/layout';

describe('workers/ring/layout', () => {
  it('passes its own start-up asserts and uses 192-byte slots after a 192-byte header', () => {
    expect(() => assertLayout()).to.not.throw();
    expect(DESCRIPTOR_BYTES).to.equal(192);
    expect(RING_HEADER_BYTES).to.equal(192);
    // HEAD and TAIL on different cache lines
    expect(Math.floor(RingHeader.HEAD / 16)).to.not.equal(Math.floor(RingHeader.TAIL / 16));
  });
});

describe('workers/ring/descriptor', () => {
  it('writes fields at the documented byte offsets (little-endian)', () => {
    const buf = new ArrayBuffer(2 * DESCRIPTOR_BYTES);
    const d = new DescriptorCursor(buf, 0, 2).at(1);
    d.clear();
    d.tag = 0x11223344;
    d.nexusId = 7;
    d.lun = 0xfffffffe;
    d.kind = DescKind.TMF_DONE;
    d.expectedDataTransferLength = 0x1000;
    d.residual = 0x200;
    d.residualKind = ResidualKind.OVERFLOW;
    d.status = 0x02;
    d.destActor = 0x0a0b0c0d;
    d.writeCdb(Uint8Array.of(0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0));
    d.writeSense(Uint8Array.of(0x70, 0, 0x05, 0, 0, 0, 0, 0x0a));
    const b = new Uint8Array(buf, DESCRIPTOR_BYTES, DESCRIPTOR_BYTES);
    expect([...b.subarray(0, 4)]).to.deep.equal([0x44, 0x33, 0x22, 0x11]);
    expect([...b.subarray(4, 8)]).to.deep.equal([7, 0, 0, 0]);
    expect([...b.subarray(8, 12)]).to.deep.equal([0xfe, 0xff, 0xff, 0xff]);
    expect(b[12]).to.equal(4);
    expect(b[15]).to.equal(10);
    expect([...b.subarray(16, 26)]).to.deep.equal([0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0]);
    expect([...b.subarray(48, 52)]).to.deep.equal([0, 0x10, 0, 0]);
    expect([...b.subarray(52, 56)]).to.deep.equal([0xff, 0xff, 0xff, 0xff]);
    expect([...b.subarray(60, 64)]).to.deep.equal([0, 2, 0, 0]);
    expect(b[68]).to.equal(2);
    expect(b[69]).to.equal(2);
    expect(b[70]).to.equal(8);
    expect([...b.subarray(72, 76)]).to.deep.equal([0x0d, 0x0c, 0x0b, 0x0a]);
    expect([...b.subarray(88, 96)]).to.deep.equal([0x70, 0, 0x05, 0, 0, 0, 0, 0x0a]);
    // slot 0 untouched
    expect(new Uint8Array(buf, 0, DESCRIPTOR_BYTES).every((x) => x === 0)).to.equal(true);
    expect(d.bufferHandle).to.equal(NO_BUFFER);
    expect(d.lun).to.equal(0xfffffffe);
    // The CDB comes out of the slot in one copy of exactly its length, which outlives the slot.
    const cdb = d.cdb();
    expect([...cdb]).to.deep.equal([0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0]);
    b[16] = 0x88;
    expect(cdb[0]).to.equal(0x28);
  });

  it('truncates sense to 96 bytes and rejects CDBs over 32 bytes', () => {
    const d = new DescriptorCursor(new ArrayBuffer(DESCRIPTOR_BYTES), 0, 1).at(0);
    const long = new Uint8Array(200).map((_, i) => i);
    expect(d.writeSense(long)).to.equal(96);
    expect(d.senseLength).to.equal(96);
    expect(d.senseByte(95)).to.equal(95);
    expect(() => d.writeCdb(new Uint8Array(33))).to.throw().with.property('code', 'ERR_DESCRIPTOR_LENGTH');
  });
});

describe('workers/ring/spsc-ring', () => {
  it('rejects capacities that are not powers of two', () => {
    expect(() => SpscRing.create(6)).to.throw().with.property('code', 'ERR_RING_CAPACITY');
  });

  it('returns 0 from reserve when full and never overwrites unread slots', () => {
    const r = SpscRing.create(4);
    expect(r.reserve(10)).to.equal(4);
    for (let j = 0; j < 4; j++) r.writer(j).tag = 100 + j;
    r.publish(4);
    expect(r.reserve(1)).to.equal(0);
    expect(r.freeSlots()).to.equal(0);
    expect(r.peek()).to.equal(4);
    expect(r.reader(0).tag).to.equal(100);
    r.consume(1);
    expect(r.reserve(5)).to.equal(1);
    r.writer(0).tag = 104;
    r.publish();
    const seen: number[] = [];
    const n = r.peek();
    for (let i = 0; i < n; i++) seen.push(r.reader(i).tag);
    r.consume(n);
    expect(seen).to.deep.equal([101, 102, 103, 104]);
    expect(r.peek()).to.equal(0);
  });

  it('keeps claimed slots invisible until published, and publishes in batches', () => {
    const r = SpscRing.create(8);
    expect(r.reserve(3)).to.equal(3);
    expect(r.reserve(3)).to.equal(3);
    expect(r.reserved).to.equal(6);
    for (let j = 0; j < 6; j++) r.writer(j).sequence = j;
    expect(r.peek()).to.equal(0);
    r.publish(2);
    expect(r.peek()).to.equal(2);
    expect(r.reserved).to.equal(4);
    expect(r.writer(0).sequence).to.equal(2);
    r.publish();
    expect(r.peek()).to.equal(6);
    expect([0, 1, 2, 3, 4, 5].map((i) => r.reader(i).sequence)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(() => r.publish(1)).to.throw().with.property('code', 'ERR_RING_MISUSE');
  });

  it('handles the 2^32 wrap of head and tail', () => {
    const start = 0xffffffff - 5;
    const r = SpscRing.create(8, { initialIndex: start });
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 10; round++) {
      const k = r.reserve(5);
      for (let j = 0; j < k; j++) r.writer(j).tag = next++;
      r.publish(k);
      const n = r.peek();
      expect(n).to.equal(k);
      for (let i = 0; i < n; i++) expect(r.reader(i).tag).to.equal(expected++);
      r.consume(n);
    }
    expect(expected).to.equal(50);
    const { head, tail } = r.indices();
    expect(head).to.equal(tail);
    expect(head).to.equal((start + 50) >>> 0);
    expect(head).to.be.lessThan(start); // wrapped past 2^32
  });

  it('reports a full ring correctly when head sits just below 2^32 and tail just above', () => {
    const r = SpscRing.create(4, { initialIndex: 0xfffffffe });
    expect(r.reserve(4)).to.equal(4);
    r.publish();
    expect(r.indices().tail).to.equal(2);
    expect(r.reserve(1)).to.equal(0);
    expect(r.peek()).to.equal(4);
  });

  it('rings the consumer only when it is parked', () => {
    const r = SpscRing.create(4);
    r.reserve(1);
    expect(r.publish()).to.equal(false);
    r.consume(r.peek());
    const ticket = r.consumerBell.arm();
    r.reserve(1);
    expect(r.publish()).to.equal(true);
    expect(r.consumerBell.waitSync(ticket, 0)).to.equal('not-equal');
    r.consumerBell.disarm();
  });

  it('wakes an async-parked consumer on publish', async () => {
    const r = SpscRing.create(4);
    const p = r.waitReadable(5000, 0);
    expect(r.consumerBell.parked).to.equal(true);
    r.reserve(1);
    r.writer(0).tag = 9;
    r.publish();
    expect(await p).to.equal(true);
    expect(r.reader(0).tag).to.equal(9);
    expect(r.consumerBell.parked).to.equal(false);
  });

  it('attaches a second view to the same buffer and rejects foreign buffers', () => {
    const r = SpscRing.create(4);
    const c = SpscRing.attach(r.handle());
    r.reserve(2);
    r.writer(0).tag = 1;
    r.writer(1).tag = 2;
    r.publish();
    expect(c.peek()).to.equal(2);
    expect(c.reader(1).tag).to.equal(2);
    c.consume(2);
    expect(r.freeSlots()).to.equal(4);
    expect(() => SpscRing.attach({ buffer: new SharedArrayBuffer(1024) })).to.throw().with.property('code', 'ERR_RING_CORRUPT');
  });
});
