// Live reconfiguration of the mesh (src/workers/reconfigure.ts, Supervisor.reconfigure): a unit
// added on another engine thread and mapped under a session that is already open, resized with
// the session seeing CAPACITY DATA HAS CHANGED and then the new capacity, unmapped and removed;
// and a change whose home thread cannot open the backstore leaving every member as before.
import { expect } from 'chai';
import { EmbeddedTarget } from '../../../src/embedded';
import { Status } from '../../../src/engine/spec/status';
import type { Topology } from '../../../src/engine/topology';
import { deviceData } from '../../../src/workers/reconfigure';
import { cdb, clearUa } from '../engine/embedded/fixture';
import { block, dev, tgt } from './helpers';

const T = 'iqn.2026-11.io.nexus:live';
const INIT = 'iqn.2026-11.example:host';

/** ASC/ASCQ of a fixed-format sense (bytes 12, 13) as 4 hex digits. */
const ascq = (sense: Buffer | undefined): string => (sense ? sense.subarray(12, 14).toString('hex') : '');

describe('runtime: live reconfiguration of the mesh', function () {
  this.timeout(30000);

  for (const threads of [2, 0]) {
    it(`adds, maps, resizes, unmaps and removes a unit under an open session (engine threads: ${threads})`, async () => {
      const t = await EmbeddedTarget.start({ devices: [dev('disk0')], targets: [tgt(T, ['disk0'])] }, { threads });
      try {
        const s = t.session(INIT, { target: T });
        await clearUa(s, 0);
        const disk1 = dev('disk1', 'ram', 4096);
        const after: Pick<Topology, 'devices' | 'targets'> = { devices: [dev('disk0'), disk1], targets: [tgt(T, ['disk0', 'disk1'])] };
        const home = threads === 0 ? 0 : 1;
        const index = t.runtime.slotForNewDevice(home).index;
        expect(index).to.equal(1);
        await t.runtime.reconfigure({ kind: 'addUnit', device: deviceData(disk1), index, home }, { kind: 'removeUnit', device: 'disk1', index }, after);
        expect(t.runtime.threadOf('disk1')).to.equal(home);
        await t.runtime.reconfigure(
          { kind: 'mapLun', target: T, group: '', lun: 1, device: 'disk1', readOnly: false },
          { kind: 'unmapLun', target: T, group: '', lun: 1 }, after,
        );
        // SPC-4 5.14: the session that saw LUN 0 learns that the LUN inventory changed.
        const ua = await s.execute(0, cdb.tur());
        expect(ua.status).to.equal(Status.CHECK_CONDITION);
        expect(ascq(ua.sense)).to.equal('3f0e');
        // The new LUN serves the open session (its nexus opened on the unit's thread).
        await clearUa(s, 1);
        expect((await s.execute(1, cdb.write10(7, 1), { dataOut: block(7, 3) })).status).to.equal(Status.GOOD);
        expect((await s.execute(1, cdb.read10(7, 1))).data).to.deep.equal(block(7, 3));
        const cap = await s.execute(1, cdb.readCapacity10());
        expect(cap.data.readUInt32BE(0)).to.equal(4095);

        await t.runtime.reconfigure(
          { kind: 'resize', device: 'disk1', sizeBytes: String(8192 * 512) }, { kind: 'resize', device: 'disk1', sizeBytes: String(4096 * 512) }, after,
        );
        // SBC-4 4.6: CAPACITY DATA HAS CHANGED first, then READ CAPACITY says the new size.
        const changed = await s.execute(1, cdb.readCapacity10());
        expect(changed.status).to.equal(Status.CHECK_CONDITION);
        expect(ascq(changed.sense)).to.equal('2a09');
        expect((await s.execute(1, cdb.readCapacity10())).data.readUInt32BE(0)).to.equal(8191);
        expect((await s.execute(1, cdb.read10(7, 1))).data).to.deep.equal(block(7, 3));

        // Write-through from now on: SPC-4 6.9.1 MODE PARAMETERS CHANGED, and the caching page's
        // WCE (MODE SENSE(6) page 08h, byte 2 bit 2 after the 4-byte header) is 0.
        await t.runtime.reconfigure({ kind: 'writeCache', device: 'disk1', mode: 'writethrough' }, { kind: 'writeCache', device: 'disk1', mode: 'writeback' }, after);
        const mode = await s.execute(1, cdb.tur());
        expect(ascq(mode.sense)).to.equal('2a01');
        const caching = await s.execute(1, [0x1a, 0x08, 0x08, 0, 64, 0]);
        expect(caching.status).to.equal(Status.GOOD);
        expect(caching.data[4] & 0x3f).to.equal(0x08);
        expect(caching.data[4 + 2] & 0x04).to.equal(0);

        const before = { devices: [dev('disk0')], targets: [tgt(T, ['disk0'])] };
        await t.runtime.reconfigure(
          { kind: 'unmapLun', target: T, group: '', lun: 1 },
          { kind: 'mapLun', target: T, group: '', lun: 1, device: 'disk1', readOnly: false }, before,
        );
        await clearUa(s, 0);
        const gone = await s.execute(1, cdb.tur());
        expect(gone.status).to.equal(Status.CHECK_CONDITION);
        expect(ascq(gone.sense)).to.equal('2500'); // LOGICAL UNIT NOT SUPPORTED
        await t.runtime.reconfigure({ kind: 'removeUnit', device: 'disk1', index }, { kind: 'addUnit', device: deviceData(disk1), index, home }, before);
        expect(t.runtime.threadOf('disk1')).to.equal(undefined);
        expect((await s.execute(0, cdb.read10(0, 1))).status).to.equal(Status.GOOD);
      } finally {
        await t.stop();
      }
    });
  }

  it('a unit whose home thread cannot open it leaves every member as before', async () => {
    const t = await EmbeddedTarget.start({ devices: [dev('disk0')], targets: [tgt(T, ['disk0'])] }, { threads: 2 });
    try {
      const bad = dev('bad', 'fileio', 2048, '/etc/passwd/bad.img');
      const after = { devices: [dev('disk0'), bad], targets: [tgt(T, ['disk0'])] };
      const index = t.runtime.slotForNewDevice(1).index;
      const err = await t.runtime.reconfigure({ kind: 'addUnit', device: deviceData(bad), index, home: 1 }, { kind: 'removeUnit', device: 'bad', index }, after)
        .then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/^engine thread 1: .*EEXIST/);
      expect(t.runtime.threadOf('bad')).to.equal(undefined);
      // Nothing of it stayed anywhere: the same name can be added now, on a store that opens.
      const good = dev('bad');
      await t.runtime.reconfigure({ kind: 'addUnit', device: deviceData(good), index, home: 1 }, { kind: 'removeUnit', device: 'bad', index },
        { devices: [dev('disk0'), good], targets: [tgt(T, ['disk0'])] });
      expect(t.runtime.threadOf('bad')).to.equal(1);
    } finally {
      await t.stop();
    }
  });
});
