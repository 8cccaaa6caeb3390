import { expect } from 'chai';
import { readBuffers } from '../../../../src/engine/read-buffers';
import { cdb, clearUa, INIT_A, ram, startTarget } from './fixture';

describe('engine reads lease Data-In buffers and the transport gives them back', () => {
  it('a second READ reuses the first one\'s buffer, and the data is each read\'s own', async () => {
    const t = await startTarget([ram('disk0', 4096)]);
    try {
      const s = t.session(INIT_A);
      await clearUa(s);
      const a = Buffer.alloc(64 * 512, 0xa1);
      const b = Buffer.alloc(64 * 512, 0xb2);
      expect((await s.execute(0, cdb.write10(0, 64), { dataOut: a })).status).to.equal(0);
      expect((await s.execute(0, cdb.write10(64, 64), { dataOut: b })).status).to.equal(0);
      const before = readBuffers.stats;
      const r1 = await s.execute(0, cdb.read10(0, 64));
      const r2 = await s.execute(0, cdb.read10(64, 64));
      const after = readBuffers.stats;
      expect(after.reused).to.be.at.least(before.reused + 1);
      // The embedded transport copies pool-backed Data-In before releasing it.
      expect(r1.data.equals(a)).to.equal(true);
      expect(r2.data.equals(b)).to.equal(true);
    } finally {
      await t.stop();
    }
  });
});
