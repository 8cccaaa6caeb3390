import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { Completion } from '../../../../src/engine/command';
import { Status } from '../../../../src/engine/spec/status';
import { ram, target, TARGET, INIT_A } from '../embedded/fixture';

function run(n: { execute(r: object, done: (c: Completion) => void): void }, cdb: number[], expectedLength: number): Promise<Completion> {
  return new Promise(resolve => n.execute({ lun: 0, cdb: Uint8Array.from(cdb), tag: 1, attr: 0, expectedLength }, resolve));
}

const read10 = (lba: number) => [0x28, 0, lba >>> 24, (lba >> 16) & 0xff, (lba >> 8) & 0xff, lba & 0xff, 0, 0, 1, 0];

describe('capacity after a run-time resize (SBC-4 4.x CAPACITY DATA HAS CHANGED)', () => {
  it('READ CAPACITY and the LBA range check follow the new size at once', async () => {
    const e = await Engine.create({ devices: [ram('disk0', 2048)], targets: [target()] });
    try {
      const n = e.openNexus({ targetName: TARGET, initiatorName: INIT_A })!;
      await run(n, [0, 0, 0, 0, 0, 0], 0); // POWER ON, RESET
      expect((await run(n, read10(2048), 512)).status).to.equal(Status.CHECK_CONDITION);
      await e.resizeDevice('disk0', 4096n * 512n);
      await run(n, [0, 0, 0, 0, 0, 0], 0); // CAPACITY DATA HAS CHANGED
      const cap = await run(n, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
      expect(Buffer.from(cap.data!).readUInt32BE(0)).to.equal(4095);
      expect((await run(n, read10(4095), 512)).status).to.equal(Status.GOOD);
      const past = await run(n, read10(4096), 512);
      expect([past.status, past.sense![12]]).to.deep.equal([Status.CHECK_CONDITION, 0x21]);
    } finally {
      await e.close();
    }
  });
});
