import { expect } from 'chai';
import { cdb, CD_MAX_BLOCKS, image, INVALID_FIELD_IN_CDB, kcq, session, sparseImage, start } from './fixture';

/** READ TOC/PMA/ATIP (MMC-6) of an image: one session, one data track (ADR 1, CONTROL 4), the lead-out. */

describe('engine/mmc READ TOC/PMA/ATIP', () => {
  it('format 0000b from track 0, LBA addresses: header, track 1 at 0, lead-out AAh at the capacity', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readToc(0, 0));
    expect([...r.data]).to.deep.equal([
      0x00, 0x12, 0x01, 0x01, // TOC DATA LENGTH 18, FIRST TRACK 1, LAST TRACK 1
      0x00, 0x14, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // track 1: ADR 1 | CONTROL 4, LBA 0
      0x00, 0x14, 0xaa, 0x00, 0x00, 0x00, 0x01, 0x2c, // lead-out at LBA 300
    ]);
    await t.stop();
  });

  it('format 0000b with MSF: LBA 0 is 00:02:00, the lead-out LBA 300 is 00:06:00; track AAh alone', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readToc(0, 1, true));
    expect([...r.data.subarray(4)]).to.deep.equal([
      0x00, 0x14, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00,
      0x00, 0x14, 0xaa, 0x00, 0x00, 0x00, 0x06, 0x00,
    ]);
    const lo = await s.execute(0, cdb.readToc(0, 0xaa));
    expect([...lo.data]).to.deep.equal([0x00, 0x0a, 0x01, 0x01, 0x00, 0x14, 0xaa, 0x00, 0x00, 0x00, 0x01, 0x2c]);
    await t.stop();
  });

  it('format 0000b for a track past the last one: INVALID FIELD IN CDB at byte 6', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readToc(0, 2));
    expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([r.sense![15], r.sense![16], r.sense![17]]).to.deep.equal([0xc0, 0x00, 0x06]);
    await t.stop();
  });

  it('format 0001b: first and last complete session 1, first track of the last session at LBA 0', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readToc(1, 0));
    expect([...r.data]).to.deep.equal([0x00, 0x0a, 0x01, 0x01, 0x00, 0x14, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]);
    // Linux sr (sr_vendor.c) asks for it the SFF-8020 way: FORMAT 0 and 40h in the control byte.
    const legacy = await s.execute(0, cdb.readToc(0, 0, false, 12, 0x40));
    expect([...legacy.data]).to.deep.equal([...r.data]);
    await t.stop();
  });

  it('format 0010b (raw TOC) of a CD: points A0h, A1h, A2h and track 1, MSF addresses', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readToc(2, 1));
    expect(kcq(r)).to.equal('GOOD');
    expect([...r.data]).to.deep.equal([
      0x00, 0x2e, 0x01, 0x01, // length 2 + 4 × 11, first and last session 1
      0x01, 0x14, 0x00, 0xa0, 0, 0, 0, 0, 0x01, 0x00, 0x00, // first track 1, disc type 00h
      0x01, 0x14, 0x00, 0xa1, 0, 0, 0, 0, 0x01, 0x00, 0x00, // last track 1
      0x01, 0x14, 0x00, 0xa2, 0, 0, 0, 0, 0x00, 0x06, 0x00, // lead-out 00:06:00
      0x01, 0x14, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x02, 0x00, // track 1 at 00:02:00
    ]);
    expect(kcq(await s.execute(0, cdb.readToc(2, 2)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });

  it('a DVD has no raw TOC (INVALID FIELD IN CDB at FORMAT); its formatted TOC ends at its capacity', async () => {
    const t = await start(sparseImage(CD_MAX_BLOCKS + 1));
    const s = await session(t);
    const raw = await s.execute(0, cdb.readToc(2, 1));
    expect(kcq(raw)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([raw.sense![15], raw.sense![16], raw.sense![17]]).to.deep.equal([0xcb, 0x00, 0x02]); // byte 2 bit 3
    const r = await s.execute(0, cdb.readToc(0, 0xaa));
    expect(r.data.readUInt32BE(8)).to.equal(CD_MAX_BLOCKS + 1);
    await t.stop();
  });

  it('formats 0011b and up (PMA, ATIP, CD-TEXT of recordable media) are INVALID FIELD IN CDB; no medium is NOT READY', async () => {
    const t = await start(image(300));
    const s = await session(t);
    for (const f of [3, 4, 5]) expect(kcq(await s.execute(0, cdb.readToc(f, 0)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
    const empty = await start(undefined);
    const e = await session(empty);
    expect(kcq(await e.execute(0, cdb.readToc(0, 0)))).to.deep.equal([0x02, 0x3a, 0x01]);
    await empty.stop();
  });
});
