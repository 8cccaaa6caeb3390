// Owner tags of the shared buffer pool (buffer-pool.ts "Ownership and reclaim"): every buffer out
// of the pool names the thread holding it, so the buffers of a thread that died can be freed
// without freeing one a live thread still uses.
import { expect } from 'chai';
import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BufferPool, SUPERVISOR_OWNER } from '../../../src/workers/buffer-pool';
import type { NexusError } from '../../../src/engine/result';

const classes = [
  { size: 4096, count: 8 },
  { size: 65536, count: 4 },
];
/** Handle of buffer `index` of class `c`, built by hand: class in the top byte. */
const handle = (c: number, index: number): number => (c << 24) | index;

function codeOf(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return (e as NexusError).code; }
  return undefined;
}

describe('workers/buffer-pool owners', () => {
  it('tags what get() hands out with the getter, per attachment, and free buffers with none', () => {
    const sup = BufferPool.create({ classes, spill: false });
    expect(sup.owner).to.equal(SUPERVISOR_OWNER);
    const t2 = BufferPool.attach(sup.handle(), 2);
    const a = sup.get(100);
    const b = t2.get(5000);
    expect(a).to.equal(handle(0, 0));
    expect(b).to.equal(handle(1, 0));
    expect(t2.ownerOf(a)).to.equal(255);
    expect(sup.ownerOf(b)).to.equal(2);
    expect(sup.ownerOf(handle(0, 1))).to.equal(-1);
    expect(codeOf(() => BufferPool.attach(sup.handle(), -1))).to.equal('ERR_POOL_OWNER');
    expect(codeOf(() => BufferPool.attach(sup.handle(), 65536))).to.equal('ERR_POOL_OWNER');
  });

  it('adopt moves a buffer from its sender to the receiver, and only from the sender', () => {
    const sup = BufferPool.create({ classes, spill: false });
    const t0 = BufferPool.attach(sup.handle(), 0);
    const t1 = BufferPool.attach(sup.handle(), 1);
    const h = t0.get(4096);
    expect(t1.adopt(h, 3)).to.equal(false); // thread 3 never held it
    expect(t1.ownerOf(h)).to.equal(0);
    expect(t1.adopt(h, 0)).to.equal(true);
    expect(t1.ownerOf(h)).to.equal(1);
    expect(t0.adopt(h, 0)).to.equal(false); // the sender lost it with the hand-over
    // A free buffer cannot be adopted (that would take it off the books of the free list).
    const free = handle(0, 5);
    expect(t1.adopt(free, 0)).to.equal(false);
    expect(t1.ownerOf(free)).to.equal(-1);
    expect(sup.stats()[0].inUse).to.equal(1);
    expect(sup.heldByOwner()).to.deep.equal([undefined, 1]);
    t1.put(h);
    expect(sup.stats()[0].inUse).to.equal(0);
    expect(sup.heldByOwner()).to.deep.equal([]);
  });

  it('putIfOwner frees only when the named owner holds the buffer; double put still throws', () => {
    const sup = BufferPool.create({ classes, spill: false });
    const t0 = BufferPool.attach(sup.handle(), 0);
    const t1 = BufferPool.attach(sup.handle(), 1);
    const h = t0.get(4096);
    expect(t1.adopt(h, 0)).to.equal(true);
    expect(t0.putIfOwner(h, 0)).to.equal(false); // adopted: no longer the sender's to free
    expect(sup.ownerOf(h)).to.equal(1);
    expect(sup.stats()[0].inUse).to.equal(1);
    expect(t0.putIfOwner(h, 1)).to.equal(true);
    expect(sup.ownerOf(h)).to.equal(-1);
    expect(sup.stats()[0].inUse).to.equal(0);
    expect(t0.putIfOwner(h, 1)).to.equal(false);
    expect(codeOf(() => t1.put(h))).to.equal('ERR_POOL_DOUBLE_PUT');
    expect(codeOf(() => sup.putIfOwner(h, 70000))).to.equal('ERR_POOL_OWNER');
    // put() returns a buffer whoever holds it; a second put throws.
    const g = t1.get(4096);
    sup.put(g);
    expect(codeOf(() => sup.put(g))).to.equal('ERR_POOL_DOUBLE_PUT');
  });

  it('reclaim frees exactly the dead owner\'s buffers, in every class, once', () => {
    const sup = BufferPool.create({ classes, spill: false });
    const dead = BufferPool.attach(sup.handle(), 4);
    const live = BufferPool.attach(sup.handle(), 5);
    const deadHeld = [dead.get(1), dead.get(1), dead.get(1), dead.get(65536)];
    const liveHeld = [live.get(1), live.get(65536)];
    // One of the dead thread's buffers was sent to the live thread and adopted: not reclaimed.
    const sent = dead.get(1);
    expect(live.adopt(sent, 4)).to.equal(true);
    expect(sup.stats().map(s => s.inUse)).to.deep.equal([5, 2]);
    expect(sup.reclaim(4)).to.equal(4);
    expect(sup.stats().map(s => s.inUse)).to.deep.equal([2, 1]);
    for (const h of deadHeld) expect(sup.ownerOf(h)).to.equal(-1);
    for (const h of [...liveHeld, sent]) expect(sup.ownerOf(h)).to.equal(5);
    expect(sup.reclaim(4)).to.equal(0);
    // The freed buffers are on the free lists again: all of class 0 but the live two come out.
    const again: number[] = [];
    for (let h = sup.get(1); h >= 0; h = sup.get(1)) again.push(h);
    expect(again).to.have.length(6);
    expect(again.filter(h => liveHeld.includes(h) || h === sent)).to.deep.equal([]);
    for (const h of deadHeld.slice(0, 3)) expect(again).to.include(h);
  });

  it('reclaim racing putIfOwner on another thread frees each buffer exactly once', async function () {
    this.timeout(30000);
    const count = 256;
    const sup = BufferPool.create({ classes: [{ size: 4096, count }], spill: false });
    const dead = BufferPool.attach(sup.handle(), 9);
    const gate = new SharedArrayBuffer(4);
    const g = new Int32Array(gate);
    const w = new Worker(path.join(__dirname, 'fixtures', 'owner-race-worker.ts'), {
      execArgv: ['--require', 'tsx/cjs'],
      workerData: { pool: sup.handle(), gate, self: 1, dead: 9 },
    });
    try {
      for (let round = 1; round <= 5; round++) {
        const held: number[] = [];
        for (let i = 0; i < count; i++) held.push(dead.get(1));
        expect(held.every(h => h >= 0)).to.equal(true);
        const ready = once(w, 'message');
        w.postMessage({ round, handles: held });
        await ready;
        const result = once(w, 'message');
        Atomics.store(g, 0, round);
        Atomics.notify(g, 0);
        const reclaimed = sup.reclaim(9);
        const [{ freed }] = (await result) as [{ freed: number }];
        expect(freed + reclaimed, `round ${round}: worker ${freed}, reclaim ${reclaimed}`).to.equal(count);
        expect(sup.stats()[0].inUse).to.equal(0);
        // Each buffer is on the free list exactly once.
        const out: number[] = [];
        for (let h = sup.get(1); h >= 0 && out.length <= count; h = sup.get(1)) out.push(h);
        expect(new Set(out).size).to.equal(count);
        expect(out).to.have.length(count);
        for (const h of out) sup.put(h);
      }
    } finally {
      await w.terminate();
    }
  });
});
