import { expect } from 'chai';
import { ReadBuffers } from '../../../src/engine/read-buffers';

describe('engine read buffers (per-thread Data-In cache)', () => {
  it('rounds up to a power-of-two class of at least 4 KiB and views the asked length', () => {
    const c = new ReadBuffers();
    const a = c.lease(512);
    expect(a.data.length).to.equal(512);
    expect(a.data.buffer.byteLength).to.equal(4096);
    const b = c.lease(1024 * 1024 + 1);
    expect(b.data.length).to.equal(1024 * 1024 + 1);
    expect(b.data.buffer.byteLength).to.equal(2 * 1024 * 1024);
  });

  it('serves a released buffer to the next lease of its class', () => {
    const c = new ReadBuffers();
    const a = c.lease(65536);
    a.data[0] = 0x5a;
    const backing = a.data.buffer;
    a.release();
    const b = c.lease(40000);
    expect(b.data.buffer).to.equal(backing);
    expect(c.stats).to.include({ reused: 1, allocated: 1 });
  });

  it('never hands one buffer to two leases at once, even after a double release', () => {
    const c = new ReadBuffers();
    const a = c.lease(8192);
    a.release();
    a.release();
    const b = c.lease(8192);
    const d = c.lease(8192);
    expect(b.data.buffer).to.not.equal(d.data.buffer);
    expect(c.stats.keptBytes).to.equal(0);
  });

  it('keeps at most its byte budget on the free lists', () => {
    const c = new ReadBuffers(3 * 1024 * 1024);
    const leases = [1, 2, 3, 4].map(() => c.lease(1024 * 1024));
    for (const l of leases) l.release();
    expect(c.stats.keptBytes).to.equal(3 * 1024 * 1024);
  });

  it('allocates beyond the largest class without caching it', () => {
    const c = new ReadBuffers();
    const big = c.lease(32 * 1024 * 1024);
    expect(big.data.length).to.equal(32 * 1024 * 1024);
    big.release();
    expect(c.stats.keptBytes).to.equal(0);
  });
});
