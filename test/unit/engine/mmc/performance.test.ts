import { expect } from 'chai';
import { be32, cdb, CD_MAX_BLOCKS, image, INVALID_FIELD_IN_CDB, kcq, session, sparseImage, start } from './fixture';

/** SET CD SPEED and GET PERFORMANCE (MMC-6, real-time streaming feature). */

describe('engine/mmc SET CD SPEED and GET PERFORMANCE', () => {
  it('SET CD SPEED takes any speed (FFFFh the fastest) with ROTATIONAL CONTROL 00b or 01b', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.setCdSpeed(0, 0xffff)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.setCdSpeed(1, 1764)))).to.equal('GOOD');
    const r = await s.execute(0, cdb.setCdSpeed(2, 1764));
    expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([r.sense![15], r.sense![16], r.sense![17]]).to.deep.equal([0xc9, 0x00, 0x01]);
    await t.stop();
  });

  it('GET PERFORMANCE type 00h, nominal read performance: one descriptor over the whole medium at 24x (CD)', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.getPerformance(0x00, 0x00, 8));
    expect([...r.data]).to.deep.equal([...be32(20), 0, 0, 0, 0, ...be32(0), ...be32(4224), ...be32(299), ...be32(4224)]);
    // MAXIMUM NUMBER OF DESCRIPTORS 0: the header alone
    expect([...(await s.execute(0, cdb.getPerformance(0x00, 0x00, 0))).data]).to.deep.equal([...be32(4), 0, 0, 0, 0]);
    // write performance and exceptions only: none; WRITE and EXCEPT echoed in byte 4
    expect([...(await s.execute(0, cdb.getPerformance(0x04, 0x00, 8))).data]).to.deep.equal([...be32(4), 0x04, 0, 0, 0]);
    expect([...(await s.execute(0, cdb.getPerformance(0x02, 0x00, 8))).data]).to.deep.equal([...be32(4), 0x02, 0, 0, 0]);
    await t.stop();
  });

  it('a DVD reads at 8x (8 × 1385 kB/s); write speed descriptors (03h) are none; other types are INVALID FIELD IN CDB', async () => {
    const t = await start(sparseImage(CD_MAX_BLOCKS + 1));
    const s = await session(t);
    const r = await s.execute(0, cdb.getPerformance(0x00, 0x00, 1));
    expect(r.data.readUInt32BE(12)).to.equal(11080);
    expect([...(await s.execute(0, cdb.getPerformance(0x00, 0x03, 4))).data]).to.deep.equal([...be32(4), 0, 0, 0, 0]);
    const bad = await s.execute(0, cdb.getPerformance(0x00, 0x01, 4));
    expect(kcq(bad)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([bad.sense![15], bad.sense![16], bad.sense![17]]).to.deep.equal([0xc0, 0x00, 0x0a]);
    expect(kcq(await s.execute(0, cdb.getPerformance(0x03, 0x00, 4)))).to.deep.equal(INVALID_FIELD_IN_CDB); // EXCEPT 11b
    await t.stop();
  });
});
