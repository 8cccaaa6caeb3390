import { expect } from 'chai';
import { BLOCK, cdb, image, kcq, session, start } from './fixture';

/** READ(10) and READ(12) (MMC-6) of 2048-byte blocks from the image. */

function blockTag(data: Buffer, i: number): number { return data.readUInt32BE(i * BLOCK + 1); }

describe('engine/mmc READ(10/12)', () => {
  it('READ(10) returns the image\'s blocks; READ(12) the same with a 32-bit length and Streaming', async () => {
    const t = await start(image(100));
    const s = await session(t);
    const r = await s.execute(0, cdb.read10(7, 3));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.length).to.equal(3 * BLOCK);
    expect([0, 1, 2].map(i => blockTag(r.data, i))).to.deep.equal([7, 8, 9]);
    expect(r.data[0]).to.equal(0xc0);
    const r12 = await s.execute(0, [...cdb.read12(99, 1).slice(0, 10), 0x80, 0]);
    expect(kcq(r12)).to.equal('GOOD');
    expect(blockTag(r12.data, 0)).to.equal(99);
    await t.stop();
  });

  it('past the last block: ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE with the LBA in INFORMATION', async () => {
    const t = await start(image(100));
    const s = await session(t);
    const r = await s.execute(0, cdb.read10(99, 2));
    expect(kcq(r)).to.deep.equal([0x05, 0x21, 0x00]);
    expect(r.information).to.equal(99n);
    await t.stop();
  });

  it('reserved byte 6 and obsolete RelAdr are INVALID FIELD IN CDB with the field pointer', async () => {
    const t = await start(image(100));
    const s = await session(t);
    const g = await s.execute(0, [0x28, 0, 0, 0, 0, 0, 0x01, 0, 1, 0]);
    expect(kcq(g)).to.deep.equal([0x05, 0x24, 0x00]);
    expect([g.sense![15], g.sense![16], g.sense![17]]).to.deep.equal([0xc8, 0x00, 0x06]); // SKSV C/D BPV bit 0, byte 6
    const rel = await s.execute(0, [0x28, 0x01, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect([rel.sense![15], rel.sense![16], rel.sense![17]]).to.deep.equal([0xc8, 0x00, 0x01]);
    await t.stop();
  });
});
