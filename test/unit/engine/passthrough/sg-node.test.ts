import { expect } from 'chai';
import * as path from 'node:path';
import { resolveSgNode } from '../../../../src/engine/backstores/sg-node';
import { fakeHost } from './fake-sg';

/** Which sg node a passthrough path leads to, through sysfs (a tree made by fakeHost). */
describe('engine/passthrough: the sg node of a path', () => {
  it('/dev/sgN is taken as it is, with its SCSI device and block device', () => {
    const host = fakeHost();
    const r = resolveSgNode('/dev/sg0', host);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.node.sgPath).to.equal(path.join(host.dev, 'sg0'));
    expect(path.basename(r.node.deviceDir)).to.equal('0:0:0:0');
    expect(r.node.blockName).to.equal('sda');
  });

  it('a block node, or a stable /dev/disk/by-id name of it, leads to the sg node of the same device', () => {
    const host = fakeHost();
    for (const p of ['/dev/sda', '/dev/disk/by-id/scsi-fake']) {
      const r = resolveSgNode(p, host);
      expect(r.ok && r.node.sgPath, p).to.equal(path.join(host.dev, 'sg0'));
    }
  });

  it('a partition, a node that is not a SCSI device, a file and a missing path are refused with the reason', () => {
    const host = fakeHost();
    const reason = (p: string): string => { const r = resolveSgNode(p, host); return r.ok ? 'ok' : r.reason; };
    expect(reason('/dev/sda1')).to.contain('is a partition');
    expect(reason('/dev/null')).to.contain('is not a SCSI device');
    expect(reason('/etc/hostname')).to.contain('is not a device node');
    expect(reason('/dev/missing')).to.contain('ENOENT');
  });

  it('a device this host uses (mounted partition, holder, swap) is refused, whatever path names it', () => {
    expect(resolveSgNode('/dev/sg0', fakeHost({ mounted: true }))).to.deep.include({ ok: false });
    const mounted = resolveSgNode('/dev/sg0', fakeHost({ mounted: true }));
    expect(!mounted.ok && mounted.reason).to.match(/sda1 is mounted on \/srv/);
    const held = resolveSgNode('/dev/sda', fakeHost({ holder: true }));
    expect(!held.ok && held.reason).to.contain('held by dm-0');
    const swap = resolveSgNode('/dev/disk/by-id/scsi-fake', fakeHost({ swap: true }));
    expect(!swap.ok && swap.reason).to.contain('swap area');
  });
});
