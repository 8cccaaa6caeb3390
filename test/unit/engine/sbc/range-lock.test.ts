import { expect } from 'chai';
import { RangeLock } from '../../../../src/engine/range-lock';

const tick = () => new Promise<void>(r => setImmediate(r));

describe('RangeLock', () => {
  it('shared locks on overlapping ranges are granted together', async () => {
    const l = new RangeLock();
    const a = await l.acquire(0n, 10n, false);
    const b = await l.acquire(5n, 10n, false);
    a(); b();
    expect(l.size).to.equal(0);
  });

  it('an exclusive lock waits for an overlapping holder and is granted on its release', async () => {
    const l = new RangeLock();
    const order: string[] = [];
    const first = await l.acquire(0n, 4n, false);
    const second = l.acquire(3n, 1n, true).then(u => { order.push('exclusive'); return u; });
    await tick();
    expect(order).to.deep.equal([]);
    first();
    (await second)();
    expect(order).to.deep.equal(['exclusive']);
  });

  it('non-overlapping ranges never wait; adjacency is not overlap', async () => {
    const l = new RangeLock();
    const a = await l.acquire(0n, 4n, true);
    const b = await l.acquire(4n, 4n, true);
    a(); b();
  });

  it('FIFO among conflicts: a shared request behind a waiting exclusive one waits too', async () => {
    const l = new RangeLock();
    const order: string[] = [];
    const r1 = await l.acquire(0n, 1n, false);
    const w = l.acquire(0n, 1n, true).then(u => { order.push('w'); return u; });
    const r2 = l.acquire(0n, 1n, false).then(u => { order.push('r2'); return u; });
    await tick();
    expect(order).to.deep.equal([]);
    r1();
    const uw = await w;
    await tick();
    expect(order).to.deep.equal(['w']);
    uw();
    (await r2)();
    expect(order).to.deep.equal(['w', 'r2']);
  });

  it('works at the top of the 64-bit LBA space and unlock is idempotent', async () => {
    const l = new RangeLock();
    const top = (1n << 64n) - 1n;
    const a = await l.acquire(top, 1n, true);
    const waiting = l.acquire(top, 0n, true);
    a(); a();
    (await waiting)();
    expect(l.size).to.equal(0);
  });
});

describe('RangeLock.wouldBlock', () => {
  it('answers false on an empty table and for shared-over-shared overlaps', async () => {
    const l = new RangeLock();
    expect(l.wouldBlock(0n, 8n, true)).to.equal(false);
    const u = await l.acquire(0n, 8n, false);
    expect(l.wouldBlock(4n, 8n, false)).to.equal(false);
    expect(l.wouldBlock(4n, 8n, true)).to.equal(true);
    expect(l.wouldBlock(8n, 8n, true)).to.equal(false); // adjacency is not overlap
    u();
    expect(l.wouldBlock(4n, 8n, true)).to.equal(false);
  });

  it('a zero-length request still orders against an exclusive holder of its first block', async () => {
    const l = new RangeLock();
    const u = await l.acquire(5n, 1n, true);
    expect(l.wouldBlock(5n, 0n, false)).to.equal(true);
    expect(l.wouldBlock(6n, 0n, false)).to.equal(false);
    u();
  });

  it('a waiting request counts: later requests do not overtake it', async () => {
    const l = new RangeLock();
    const held = await l.acquire(0n, 4n, false);
    const waiting = l.acquire(0n, 4n, true);
    // Shared over the shared holder would be fine, but the exclusive waiter is queued first.
    expect(l.wouldBlock(2n, 1n, false)).to.equal(true);
    held();
    (await waiting)();
    expect(l.wouldBlock(2n, 1n, false)).to.equal(false);
  });
});
