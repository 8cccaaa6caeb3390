import { dirname, basename } from 'node:path';
import { expect } from 'chai';
import { normalizeTopology, TopologyResult } from '../../../../src/daemon/config/load';
import { lunRows } from '../../../../src/daemon/control/daemon-methods';
import { EmbeddedTarget } from '../../../../src/embedded';
import { cdb, image, kcq, NOT_READY_TRAY_CLOSED } from './fixture';

/** The topology's `"handler": "vcdrom"`: schema, defaults, errors with their JSON path, and the drive it starts. */

const T = 'iqn.2026-11.io.nexus:cd';

function topo(device: Record<string, unknown>, baseDir = '/'): TopologyResult {
  return normalizeTopology({
    devices: [{ name: 'cd0', handler: 'vcdrom', ...device }],
    targets: [{ driver: 'iscsi', name: T, luns: [{ lun: 0, device: 'cd0' }] }],
  }, { baseDir, cwd: '/srv' });
}

function errors(r: TopologyResult): string[] {
  return r.ok ? [] : r.errors.map(e => `${e.path}: ${e.message}`);
}

describe('engine/mmc topology: handler vcdrom', () => {
  it('an ISO image path (relative to the file) makes a read-only removable cdrom of 2048-byte blocks, mapped read-only', () => {
    const iso = image(16);
    const r = topo({ path: basename(iso) }, dirname(iso));
    expect(errors(r)).to.deep.equal([]);
    if (!r.ok) return;
    expect(r.topology.devices[0]).to.deep.equal({
      name: 'cd0', handler: 'vcdrom', deviceType: 'cdrom', path: iso, sizeBytes: 0n, blockSize: 2048,
      writeCache: 'writeback', thin: false, readOnly: true, removable: true,
    });
    // The mapping keeps its own flag; the unit refuses writes itself, and the LUN is listed read-only.
    expect(r.topology.targets[0].luns).to.deep.equal([{ lun: 0, device: 'cd0', readOnly: false }]);
    expect(lunRows(r.topology).map(l => l.readOnly)).to.deep.equal([true]);
  });

  it('no path is an empty drive', () => {
    const r = topo({});
    expect(errors(r)).to.deep.equal([]);
    if (r.ok) expect(r.topology.devices[0].path).to.equal(undefined);
  });

  it('says what is wrong at each JSON path', () => {
    const r = topo({ path: '/nonexistent/x.iso', size: '1GiB', blockSize: 512, readOnly: false, removable: false, thin: true, deviceType: 'disk' });
    expect(errors(r)).to.deep.equal([
      '/devices/0/blockSize: CD/DVD media have 2048-byte blocks',
      '/devices/0/deviceType: a vcdrom device is a CD/DVD-ROM drive: its deviceType is "cdrom"',
      '/devices/0/path: cannot read the ISO image /nonexistent/x.iso: ENOENT',
      '/devices/0/readOnly: a CD/DVD-ROM medium is read-only',
      '/devices/0/removable: a CD/DVD-ROM medium is removable',
      '/devices/0/size: a vcdrom device takes its size from its ISO image',
      '/devices/0/thin: a CD/DVD-ROM medium is not thin provisioned',
    ]);
  });

  it('a disk cannot be a cdrom or have 2048-byte blocks; an unknown handler is a schema error', () => {
    const r = normalizeTopology({
      devices: [
        { name: 'd0', handler: 'ram', size: '1MiB', deviceType: 'cdrom' },
        { name: 'd1', handler: 'ram', size: '1MiB', blockSize: 2048 },
        { name: 'd2', handler: 'cdrom' },
      ],
      targets: [{ driver: 'iscsi', name: T, luns: [{ lun: 0, device: 'd0' }] }],
    });
    const e = errors(r);
    expect(e).to.include('/devices/0/handler: a cdrom device reads an ISO image: its handler is "vcdrom"');
    expect(e).to.include('/devices/1/blockSize: blockSize 2048 is the block size of CD/DVD media (handler vcdrom); disks have 512 or 4096');
    expect(e.some(x => x.startsWith('/devices/2/handler:'))).to.equal(true);
  });

  it('the normalized device starts as a drive through the engine', async () => {
    for (const path of [image(16, 0x5a), undefined]) {
      const r = topo(path === undefined ? {} : { path });
      if (!r.ok) throw new Error(errors(r).join('\n'));
      const t = await EmbeddedTarget.start({ devices: r.topology.devices, targets: [{ ...r.topology.targets[0], driver: 'local' }] });
      const s = t.session('iqn.2026-11.example:h');
      await s.execute(0, cdb.requestSense());
      await s.execute(0, cdb.tur());
      if (path) expect((await s.execute(0, cdb.read10(0, 1))).data[0]).to.equal(0x5a);
      else expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
      await t.stop();
    }
  });
});
