import { expect } from 'chai';
import { normalizeTopology, TopologyResult } from '../../../../src/daemon/config/load';
import { homeThreads } from '../../../../src/workers/placement';
import { EmbeddedTarget } from '../../../../src/embedded';
import { cartridgeFile, cdb, DRIVE, kcq, SLOT, workDir } from './fixture';

/**
 * The topology's `"handler": "changer"`: the library's shape, its defaults, every mistake at its
 * JSON path, and the placement that keeps a changer with its drives on one engine thread.
 */

const T = 'iqn.2026-11.io.nexus:vtl';

function doc(changer: Record<string, unknown>, extra: Array<Record<string, unknown>> = []): Record<string, unknown> {
  return {
    devices: [
      { name: 'lib0', handler: 'changer', drives: ['tape0', 'tape1'], slots: 6, mailSlots: 1, ...changer },
      { name: 'tape0', handler: 'vcdrom' },
      { name: 'tape1', handler: 'vcdrom' },
      ...extra,
    ],
    targets: [{ driver: 'iscsi', name: T, luns: [{ lun: 0, device: 'lib0' }, { lun: 1, device: 'tape0' }, { lun: 2, device: 'tape1' }] }],
  };
}

function norm(d: unknown, stateDir: string | null | undefined = undefined): TopologyResult {
  return normalizeTopology(d, { baseDir: '/etc/nexus', cwd: '/srv', ...(stateDir !== undefined ? { stateDir } : {}) });
}

function errors(r: TopologyResult): string[] {
  return r.ok ? [] : r.errors.map(e => `${e.path}: ${e.message}`);
}

describe('engine/smc topology: handler changer', () => {
  it('a changer with drives, slots, a mail slot and cartridges (paths relative to the file, slot from 1); state under stateDir by default', () => {
    const r = norm(doc({ cartridges: [{ barcode: 'NXS001L6', path: 'carts/1.img', slot: 1 }, { barcode: 'NXS002L6', path: '/v/2.img', slot: 6 }] }));
    expect(errors(r)).to.deep.equal([]);
    if (!r.ok) return;
    const lib0 = r.topology.devices[0];
    expect(lib0.deviceType).to.equal('changer');
    expect(lib0.library).to.deep.equal({
      drives: ['tape0', 'tape1'], slots: 6, mailSlots: 1, statePath: '/srv/nexus-state/lib0.library.json',
      cartridges: [{ barcode: 'NXS001L6', path: '/etc/nexus/carts/1.img', slot: 1 }, { barcode: 'NXS002L6', path: '/v/2.img', slot: 6 }],
    });
    const s = norm(doc({ state: 'lib.json', mailSlots: undefined }));
    if (s.ok) expect([s.topology.devices[0].library!.statePath, s.topology.devices[0].library!.mailSlots]).to.deep.equal(['/etc/nexus/lib.json', 0]);
  });

  it('drives: unknown, not a removable-medium device, twice, in two libraries, the changer itself', () => {
    expect(errors(norm(doc({ drives: ['tape0', 'tape9'] })))).to.deep.equal(['/devices/0/drives/1: device "tape9" is not defined']);
    expect(errors(norm(doc({ drives: ['tape0', 'disk0'] }, [{ name: 'disk0', handler: 'ram', size: '1MiB' }]))))
      .to.deep.equal(['/devices/0/drives/1: device "disk0" (disk) has no removable medium to load']);
    expect(errors(norm(doc({ drives: ['tape0', 'tape0'] })))).to.deep.equal(['/devices/0/drives/1: drive "tape0" is listed twice']);
    expect(errors(norm(doc({}, [{ name: 'lib1', handler: 'changer', drives: ['tape1'], slots: 2 }]))))
      .to.deep.equal(['/devices/3/drives/0: drive "tape1" is already in the library of "lib0"']);
    expect(errors(norm(doc({ drives: ['lib0'] })))).to.deep.equal(['/devices/0/drives/0: a changer cannot load itself']);
  });

  it('cartridges: a slot out of range, two in one slot, a bar code twice, a bar code with a space', () => {
    const c = (barcode: string, slot: number) => ({ barcode, path: '/v/x.img', slot });
    expect(errors(norm(doc({ cartridges: [c('A1', 7)] })))).to.deep.equal(['/devices/0/cartridges/0/slot: slot 7 is beyond the library\'s 6 slots']);
    expect(errors(norm(doc({ cartridges: [c('A1', 2), c('A2', 2)] })))).to.deep.equal(['/devices/0/cartridges/1/slot: slot 2 already holds /devices/0/cartridges/0']);
    expect(errors(norm(doc({ cartridges: [c('A1', 1), c('A1', 2)] })))).to.deep.equal(['/devices/0/cartridges/1/barcode: bar code "A1" is already on /devices/0/cartridges/0']);
    expect(errors(norm(doc({ cartridges: [c('A 1', 1)] })))[0]).to.match(/^\/devices\/0\/cartridges\/0\/barcode: /);
  });

  it('library keys on another handler, block settings on a changer, no slots, no state file anywhere', () => {
    expect(errors(norm(doc({}, [{ name: 'd', handler: 'ram', size: '1MiB', slots: 3 }])))).to.deep.equal(['/devices/3/slots: slots belongs to a medium changer (handler "changer")']);
    expect(errors(norm(doc({ size: '1MiB' })))[0]).to.match(/^\/devices\/0\/size: a medium changer has no size/);
    expect(errors(norm(doc({ slots: undefined })))).to.deep.equal(['/devices/0/slots: a medium changer needs its number of storage slots']);
    expect(errors(norm(doc({}), null))).to.deep.equal(['/devices/0/state: a medium changer needs a state file and there is no stateDir to put it in']);
    expect(errors(norm(doc({ deviceType: 'disk' })))).to.deep.equal(['/devices/0/deviceType: a changer device is a medium changer: its deviceType is "changer"']);
  });

  it('placement: a changer and its drives share a thread in colocate and in spread mode', () => {
    const r = norm({
      devices: [
        { name: 'tape0', handler: 'vcdrom' }, { name: 'd1', handler: 'ram', size: '1MiB' },
        { name: 'lib0', handler: 'changer', drives: ['tape0', 'tape1'], slots: 2 }, { name: 'tape1', handler: 'vcdrom' },
      ],
      // The drives are exported by another target than the changer: colocation comes from the library.
      targets: [
        { driver: 'iscsi', name: `${T}:a`, luns: [{ lun: 0, device: 'lib0' }] },
        { driver: 'iscsi', name: `${T}:b`, luns: [{ lun: 0, device: 'tape0' }, { lun: 1, device: 'd1' }] },
        { driver: 'iscsi', name: `${T}:c`, luns: [{ lun: 0, device: 'tape1' }] },
      ],
    });
    if (!r.ok) throw new Error(errors(r).join('\n'));
    const colocate = homeThreads(r.topology, 3);
    expect(colocate[0]).to.equal(colocate[2]);
    expect(colocate[3]).to.equal(colocate[2]);
    const spread = homeThreads(r.topology, 4, 'spread');
    expect([spread[0], spread[3]]).to.deep.equal([spread[2], spread[2]]);
    expect(spread[1]).to.equal(1);
  });

  it('with engine threads, MOVE MEDIUM crosses to the thread that hosts the changer and its drives', async function () {
    this.timeout(30000);
    const dir = workDir();
    const r = norm({
      devices: [
        { name: 'd0', handler: 'ram', size: '1MiB' },
        { name: 'lib0', handler: 'changer', drives: ['tape0'], slots: 2, cartridges: [{ barcode: 'NXS001L6', path: cartridgeFile(dir, 0xa1), slot: 1 }] },
        // Spread mode (embedded mode's default) would put device 2 on thread 0, away from lib0.
        { name: 'tape0', handler: 'vcdrom' },
        { name: 'd1', handler: 'ram', size: '1MiB' },
      ],
      targets: [{ driver: 'local', name: T, luns: [0, 1, 2, 3].map(lun => ({ lun, device: ['d0', 'lib0', 'd1', 'tape0'][lun] })) }],
    }, dir);
    if (!r.ok) throw new Error(errors(r).join('\n'));
    const t = await EmbeddedTarget.start(r.topology, { threads: 2 });
    try {
      const s = t.session('iqn.2026-11.example:h');
      let m = await s.execute(1, cdb.moveMedium(SLOT(1), DRIVE(0)));
      if (m.senseKey === 0x06) m = await s.execute(1, cdb.moveMedium(SLOT(1), DRIVE(0)));
      expect(kcq(m)).to.equal('GOOD');
      for (let i = 0; i < 3; i++) if ((await s.execute(3, cdb.tur())).senseKey !== 0x06) break;
      expect((await s.execute(3, cdb.read10(0, 1))).data[0]).to.equal(0xa1);
    } finally {
      await t.stop();
    }
  });
});
