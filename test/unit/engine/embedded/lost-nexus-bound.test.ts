import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { MAX_DETACHED_NEXUSES } from '../../../../src/engine/ua';
import type { Completion } from '../../../../src/engine/command';
import type { NexusApi } from '../../../../src/engine/engine-api';
import { INIT_A, TARGET, ram, target } from './fixture';

function tur(n: NexusApi, tag: number): Promise<Completion> {
  return new Promise((res) => n.execute({ lun: 0, cdb: Uint8Array.from([0, 0, 0, 0, 0, 0]), tag, attr: 0, expectedLength: 0 }, res));
}

describe('unit attention state of lost nexuses stays bounded', () => {
  it('an initiator that comes back with a new ISID each time does not grow the unit for ever', async () => {
    const e = await Engine.create({ devices: [ram('disk0')], targets: [target()] });
    try {
      const lu = e.units.get('disk0')!;
      const isid = (i: number): string => (0x400000000000 + i).toString(16);
      for (let i = 0; i < MAX_DETACHED_NEXUSES + 50; i++) {
        const n = e.openNexus({ targetName: TARGET, initiatorName: INIT_A, isid: isid(i) })!;
        await tur(n, i); // takes the new nexus's POWER ON, RESET
        await n.close('loss');
      }
      expect(lu.ua.size).to.equal(MAX_DETACHED_NEXUSES);
      // The most recent lost identity is still told what happened to it (SAM-5 6.3.4).
      const back = e.openNexus({ targetName: TARGET, initiatorName: INIT_A, isid: isid(MAX_DETACHED_NEXUSES + 49) })!;
      const got = await tur(back, 1);
      expect(got.status).to.equal(2);
      expect([got.sense![12], got.sense![13]]).to.deep.equal([0x29, 0x07]); // I_T NEXUS LOSS OCCURRED
      // The oldest one starts over as a new nexus: POWER ON, RESET.
      const old = e.openNexus({ targetName: TARGET, initiatorName: INIT_A, isid: isid(0) })!;
      const first = await tur(old, 2);
      expect([first.sense![12], first.sense![13]]).to.deep.equal([0x29, 0x00]);
    } finally {
      await e.close();
    }
  });
});
