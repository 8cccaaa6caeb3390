import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { MemoryBackstore } from '../../../../src/engine/backstores';
import type { Backstore } from '../../../../src/engine/types';
import { ram } from '../embedded/fixture';

// SAM-5 multipath, README "Scaling out with Ceph": a store that several gateways export as one
// logical unit names itself (Backstore.identitySeed), and the unit's VPD 80h/83h identifiers
// derive from that name, not from the device's name in one gateway's topology.
describe('unit identity of a store shared between gateways', () => {
  const open = (seed: string | undefined) => async (cfg: { sizeBytes: bigint }): Promise<Backstore> => {
    const m = new MemoryBackstore({ sizeBytes: cfg.sizeBytes, writeBack: true, readOnly: false, thin: false });
    return seed === undefined ? m : Object.assign(m, { identitySeed: seed });
  };

  it('is the same for the same seed whatever the device is called, and differs for another seed', async () => {
    const a = await Engine.create({ devices: [ram('vol-a')], targets: [] }, { openBackstore: open('rbd:rbd/1f2e3d4c5b6a') });
    const b = await Engine.create({ devices: [ram('vol-b')], targets: [] }, { openBackstore: open('rbd:rbd/1f2e3d4c5b6a') });
    const c = await Engine.create({ devices: [ram('vol-a')], targets: [] }, { openBackstore: open('rbd:rbd/99aa88bb77cc') });
    try {
      const [ia, ib, ic] = [a.units.get('vol-a')!.identity, b.units.get('vol-b')!.identity, c.units.get('vol-a')!.identity];
      expect(ib.serial).to.equal(ia.serial);
      expect(ib.naa.equals(ia.naa)).to.equal(true);
      expect(ib.t10Id).to.equal(ia.t10Id);
      expect(ic.serial).not.to.equal(ia.serial);
      expect(ic.naa.equals(ia.naa)).to.equal(false);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('keeps deriving from the device name for a store of one gateway', async () => {
    const a = await Engine.create({ devices: [ram('disk0')], targets: [] }, { openBackstore: open(undefined) });
    const b = await Engine.create({ devices: [ram('disk1')], targets: [] }, { openBackstore: open(undefined) });
    try {
      expect(b.units.get('disk1')!.identity.serial).not.to.equal(a.units.get('disk0')!.identity.serial);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
