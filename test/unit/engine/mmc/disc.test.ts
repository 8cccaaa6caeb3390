import { expect } from 'chai';
import { be32, cdb, CD_MAX_BLOCKS, image, INVALID_FIELD_IN_CDB, kcq, NOT_READY_TRAY_CLOSED, session, sparseImage, start } from './fixture';

/** READ DISC INFORMATION, READ TRACK INFORMATION and MECHANISM STATUS (MMC-6) of a pressed disc. */

describe('engine/mmc disc, track and mechanism', () => {
  it('READ DISC INFORMATION: a complete disc, one complete session, track 1, lead-in/out FFFFFFFFh', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readDiscInformation());
    expect([...r.data]).to.deep.equal([
      0x00, 0x20, // DISC INFORMATION LENGTH 32
      0x0e, // STATE OF LAST SESSION 11b (complete) | DISC STATUS 10b (complete)
      0x01, 0x01, 0x01, 0x01, // first track, sessions, first and last track of the last session
      0x20, // URU
      0x00, // DISC TYPE: CD-DA or CD-ROM
      0, 0, 0, 0, 0, 0, 0,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const other = await s.execute(0, cdb.readDiscInformation(34, 1)); // track resources
    expect(kcq(other)).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });

  it('READ TRACK INFORMATION by track, by LBA and by session: data track mode 1 of the whole capacity', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const expected = [
      0x00, 0x2e, 0x01, 0x01, 0x00,
      0x04, // TRACK MODE 4h
      0x01, // DATA MODE 1h
      0x00,
      ...be32(0), ...be32(0), ...be32(0), ...be32(0), // start, next writable, free, blocking factor
      ...be32(300), // TRACK SIZE
      ...new Array(20).fill(0),
    ];
    for (const [type, address] of [[1, 1], [0, 0], [0, 299], [2, 1]]) {
      expect([...(await s.execute(0, cdb.readTrackInformation(type, address))).data], `type ${type} address ${address}`).to.deep.equal(expected);
    }
    const past = await s.execute(0, cdb.readTrackInformation(0, 300));
    expect(kcq(past)).to.deep.equal([0x05, 0x21, 0x00]);
    for (const [type, address] of [[1, 0], [1, 2], [1, 0xff], [2, 2], [3, 0]]) {
      expect(kcq(await s.execute(0, cdb.readTrackInformation(type, address))), `type ${type} address ${address}`).to.deep.equal(INVALID_FIELD_IN_CDB);
    }
    await t.stop();
  });

  it('a DVD track has a blocking factor of 16', async () => {
    const t = await start(sparseImage(CD_MAX_BLOCKS + 16));
    const s = await session(t);
    const r = await s.execute(0, cdb.readTrackInformation(1, 1));
    expect(r.data.readUInt32BE(20)).to.equal(16);
    expect(r.data.readUInt32BE(24)).to.equal(CD_MAX_BLOCKS + 16);
    await t.stop();
  });

  it('with no medium the disc commands are NOT READY; MECHANISM STATUS still answers with DOOR OPEN after an eject', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect([...(await s.execute(0, cdb.mechanismStatus())).data]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    await s.execute(0, cdb.startStop(true, false));
    expect([...(await s.execute(0, cdb.mechanismStatus())).data]).to.deep.equal([0, 0x10, 0, 0, 0, 0, 0, 0]);
    await s.execute(0, cdb.startStop(true, true));
    await t.changeMedium('cd0');
    await s.execute(0, cdb.startStop(true, true));
    expect(kcq(await s.execute(0, cdb.readDiscInformation()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    expect(kcq(await s.execute(0, cdb.readTrackInformation(1, 1)))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    await t.stop();
  });
});
