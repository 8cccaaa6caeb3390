import { dirname, basename } from 'node:path';
import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { normalizeTopology, TopologyResult } from '../../../../src/daemon/config/load';
import { EmbeddedTarget } from '../../../../src/embedded';
import { cartridge, cdb, kcq, NOT_PRESENT } from './fixture';

/** The topology's `"handler": "vtape"`: schema, defaults, errors with their JSON path, and the drive it starts. */

const T = 'iqn.2026-12.io.nexus:tape';

function topo(device: Record<string, unknown>, baseDir = '/'): TopologyResult {
  return normalizeTopology({
    devices: [{ name: 'st0', handler: 'vtape', ...device }],
    targets: [{ driver: 'iscsi', name: T, luns: [{ lun: 0, device: 'st0' }] }],
  }, { baseDir, cwd: '/srv' });
}

function errors(r: TopologyResult): string[] {
  return r.ok ? [] : r.errors.map(e => `${e.path}: ${e.message}`);
}

describe('engine/ssc topology: handler vtape', () => {
  it('a cartridge path (relative to the file) makes a removable tape drive, writable', async () => {
    const c = await cartridge();
    const r = topo({ path: basename(c) }, dirname(c));
    expect(errors(r)).to.deep.equal([]);
    if (!r.ok) return;
    expect(r.topology.devices[0]).to.deep.equal({
      name: 'st0', handler: 'vtape', deviceType: 'tape', path: c, sizeBytes: 0n, blockSize: 512,
      writeCache: 'writeback', thin: false, readOnly: false, removable: true,
    });
    expect(r.topology.targets[0].luns).to.deep.equal([{ lun: 0, device: 'st0', readOnly: false }]);
  });

  it('no path is an empty drive', () => {
    const r = topo({});
    expect(errors(r)).to.deep.equal([]);
    if (r.ok) expect(r.topology.devices[0].path).to.equal(undefined);
  });

  it('says what is wrong at each JSON path', async () => {
    const r = topo({ path: '/nonexistent/x.tape', size: '1GiB', blockSize: 512, physicalBlockSize: 4096, removable: false, thin: true, deviceType: 'disk' });
    expect(errors(r)).to.deep.equal([
      '/devices/0/blockSize: a tape drive\'s block length is set by the initiator (MODE SELECT: fixed or variable-block mode)',
      '/devices/0/deviceType: a vtape device is a tape drive: its deviceType is "tape"',
      '/devices/0/path: cannot read the cartridge /nonexistent/x.tape: ENOENT',
      '/devices/0/physicalBlockSize: a tape drive has no physical block size to set',
      '/devices/0/removable: a tape cartridge is removable',
      '/devices/0/size: a vtape device takes its capacity from its cartridge (nexus tape create --size)',
      '/devices/0/thin: a tape cartridge is not thin provisioned',
    ]);
    const notTape = `${dirname(await cartridge())}/plain.img`;
    writeFileSync(notTape, Buffer.alloc(4096));
    const e = errors(topo({ path: notTape }));
    expect(e).to.deep.equal([`/devices/0/path: ${notTape}: not a Nexus tape cartridge (no header)`]);
  });

  it('a disk cannot be a tape', () => {
    const r = normalizeTopology({
      devices: [{ name: 'd0', handler: 'ram', size: '1MiB', deviceType: 'tape' }],
      targets: [{ driver: 'iscsi', name: T, luns: [{ lun: 0, device: 'd0' }] }],
    });
    expect(errors(r)).to.include('/devices/0/handler: a tape device holds a cartridge: its handler is "vtape"');
  });

  it('the normalized device starts as a drive through the engine, loaded or empty', async () => {
    for (const path of [await cartridge(), undefined]) {
      const r = topo(path === undefined ? {} : { path });
      if (!r.ok) throw new Error(errors(r).join('\n'));
      const t = await EmbeddedTarget.start({ devices: r.topology.devices, targets: [{ ...r.topology.targets[0], driver: 'local' }] });
      const s = t.session('iqn.2026-12.example:h');
      await s.execute(0, cdb.requestSense());
      if (path) expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
      else expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_PRESENT);
      await t.stop();
    }
  });
});
