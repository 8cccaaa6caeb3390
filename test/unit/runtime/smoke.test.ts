import { expect } from 'chai';
import { EmbeddedTarget } from '../../../src/embedded';
import { cdb, ram, target, INIT_A } from '../engine/embedded/fixture';

describe('runtime smoke: embedded with one engine thread', function () {
  this.timeout(20000);
  it('INQUIRY through one engine thread', async () => {
    const t = await EmbeddedTarget.start({ devices: [ram('disk0')], targets: [target()] }, { threads: 1 });
    try {
      const s = t.session(INIT_A);
      const r = await s.execute(0, cdb.inquiry(36));
      expect(r.status).to.equal(0);
      expect(r.data.length).to.equal(36);
      expect(r.data.subarray(8, 16).toString()).to.match(/\S/);
    } finally { await t.stop(); }
  });
});
