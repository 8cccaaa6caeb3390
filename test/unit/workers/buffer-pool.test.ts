import { expect } from 'chai';
import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BufferPool, SharedAllocator } from '../../../src/workers/buffer-pool';

const small = [
  { size: 4096, count: 4 },
  { size: 65536, count: 2 },
];

describe('workers/buffer-pool', () => {
  it('hands out handles that encode class and index, and -1 on exhaustion', () => {
    const pool = BufferPool.create({ classes: small, spill: false });
    const got = [pool.get(100), pool.get(4096), pool.get(1), pool.get(0)];
    // class 0, indexes 0..3 in free-list order
    expect(got).to.deep.equal([0, 1, 2, 3]);
    expect(pool.get(10)).to.equal(-1);
    expect(pool.get(4097)).to.equal(0x01000000);
    expect(pool.get(65536)).to.equal(0x01000001);
    expect(pool.get(65536)).to.equal(-1);
    expect(pool.get(65537)).to.equal(-1); // larger than any class
    const s = pool.stats();
    expect(s[0]).to.deep.equal({ size: 4096, count: 4, inUse: 4, highWater: 4, getFails: 1 });
    expect(s[1]).to.include({ inUse: 2, highWater: 2, getFails: 1 });
  });

  it('reuses returned buffers and keeps the high-water mark', () => {
    const pool = BufferPool.create({ classes: small, spill: false });
    const a = pool.get(10);
    const b = pool.get(10);
    pool.put(a);
    expect(pool.stats()[0]).to.include({ inUse: 1, highWater: 2 });
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) seen.add(pool.get(10));
    expect(seen.has(a)).to.equal(true); // the put buffer came back
    expect(seen.has(b)).to.equal(false);
    expect(pool.get(10)).to.equal(-1);
    pool.put(b);
    expect(pool.get(10)).to.equal(b);
    expect(pool.stats()[0]).to.include({ inUse: 4, highWater: 4 });
  });

  it('cycles a free list many times past its capacity (position wrap inside the queue)', () => {
    const pool = BufferPool.create({ classes: [{ size: 4096, count: 3 }] });
    for (let i = 0; i < 10000; i++) {
      const h1 = pool.get(1);
      const h2 = pool.get(1);
      expect(h1).to.be.at.least(0);
      expect(h2).to.be.at.least(0);
      pool.put(h1);
      pool.put(h2);
    }
    expect(pool.stats()[0].inUse).to.equal(0);
  });

  it('spills to a larger class when the fitting one is exhausted', () => {
    const pool = BufferPool.create({ classes: small });
    for (let i = 0; i < 4; i++) pool.get(1);
    expect(pool.get(1)).to.equal(0x01000000);
  });

  it('rejects double puts and foreign handles with codes', () => {
    const pool = BufferPool.create({ classes: small });
    const h = pool.get(1);
    pool.put(h);
    expect(() => pool.put(h)).to.throw().with.property('code', 'ERR_POOL_DOUBLE_PUT');
    expect(() => pool.put(0x05000000)).to.throw().with.property('code', 'ERR_POOL_HANDLE');
    expect(() => pool.put(0x00000009)).to.throw().with.property('code', 'ERR_POOL_HANDLE');
    expect(() => pool.view(0xffffffff)).to.throw().with.property('code', 'ERR_POOL_HANDLE');
  });

  it('returns cached views onto distinct, correctly sized regions', () => {
    const pool = BufferPool.create({ classes: small });
    const a = pool.get(1);
    const b = pool.get(1);
    expect(pool.view(a)).to.equal(pool.view(a));
    expect(pool.view(a).byteLength).to.equal(4096);
    expect(pool.view(b).byteOffset - pool.view(a).byteOffset).to.equal(4096);
    pool.view(a).fill(0xaa);
    expect(pool.view(b)[0]).to.equal(0);
    expect(pool.locate(b)).to.include({ byteOffset: 4096, size: 4096 });
  });

  it('takes slab memory from an injected allocator', () => {
    const sizes: number[] = [];
    const alloc: SharedAllocator = (n) => { sizes.push(n); return new SharedArrayBuffer(n); };
    BufferPool.create({ classes: small, allocate: alloc });
    expect(sizes).to.deep.equal([4 * 4096, 2 * 65536]);
  });

  it('refuses bad class tables', () => {
    expect(() => BufferPool.create({ classes: [{ size: 1000, count: 1 }] })).to.throw().with.property('code', 'ERR_POOL_CONFIG');
    expect(() => BufferPool.create({ classes: [{ size: 8192, count: 1 }, { size: 4096, count: 1 }] }))
      .to.throw().with.property('code', 'ERR_POOL_CONFIG');
  });

  it('is shared across threads: workers get, stamp, and the main thread puts back', async function () {
    this.timeout(30000);
    const pool = BufferPool.create({ classes: [{ size: 4096, count: 64 }], spill: false });
    const file = path.join(__dirname, 'fixtures', 'pool-worker.ts');
    const workers = [1, 2].map((stamp) => new Worker(file, {
      execArgv: ['--require', 'tsx/cjs'],
      workerData: { pool: pool.handle(), stamp, take: 20, rounds: 20000 },
    }));
    try {
      const replies = (await Promise.all(workers.map((w) => once(w, 'message')))) as [{ kept: number[] }][];
      const kept = replies.map(([r]) => r.kept);
      expect(kept[0]).to.have.length(20);
      expect(kept[1]).to.have.length(20);
      const all = new Set([...kept[0], ...kept[1]]);
      expect(all.size).to.equal(40); // no buffer handed to both threads
      kept.forEach((hs, i) => hs.forEach((h) => expect(pool.view(h).every((x) => x === i + 1)).to.equal(true)));
      expect(pool.stats()[0].inUse).to.equal(40);
      // main thread puts worker 1's buffers; worker 2 puts its own
      kept[0].forEach((h) => pool.put(h));
      workers[1].postMessage(kept[1]);
      await once(workers[1], 'message');
      expect(pool.stats()[0].inUse).to.equal(0);
      const again: number[] = [];
      for (let i = 0; i < 64; i++) again.push(pool.get(1));
      expect(new Set(again).size).to.equal(64);
      expect(again.every((h) => h >= 0)).to.equal(true);
      expect(pool.get(1)).to.equal(-1);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
