import { expect } from 'chai';
import { cdb, CD_MAX_BLOCKS, image, INVALID_FIELD_IN_CDB, kcq, session, sparseImage, start } from './fixture';

/** GET CONFIGURATION (MMC-6): features, the current profile and the RT field. */

/** The feature descriptors expected of the drive, by hand: CD-ROM medium in, DVD-ROM medium in, or none. */
function features(profile: 'cd' | 'dvd' | 'none'): number[][] {
  const cd = profile === 'cd', dvd = profile === 'dvd', present = profile !== 'none';
  return [
    // 0000h profile list: version 0, persistent, current; DVD-ROM 0010h then CD-ROM 0008h
    [0x00, 0x00, 0x03, 0x08, 0x00, 0x10, dvd ? 1 : 0, 0x00, 0x00, 0x08, cd ? 1 : 0, 0x00],
    // 0001h core: version 2, persistent, current; SCSI family; DBE
    [0x00, 0x01, 0x0b, 0x08, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00],
    // 0002h morphing: version 1; OCEvent
    [0x00, 0x02, 0x07, 0x04, 0x02, 0x00, 0x00, 0x00],
    // 0003h removable medium: tray, load, eject, lock
    [0x00, 0x03, 0x03, 0x04, 0x39, 0x00, 0x00, 0x00],
    // 0010h random readable: 2048-byte blocks, blocking 1 (CD) or 16 (DVD)
    [0x00, 0x10, present ? 0x01 : 0x00, 0x08, 0x00, 0x00, 0x08, 0x00, 0x00, dvd ? 16 : 1, 0x00, 0x00],
    // 001Eh CD read: version 2
    [0x00, 0x1e, 0x08 | (cd ? 1 : 0), 0x04, 0, 0, 0, 0],
    // 001Fh DVD read: version 1
    [0x00, 0x1f, 0x04 | (dvd ? 1 : 0), 0x04, 0, 0, 0, 0],
    // 0107h real-time streaming: SCS (SET CD SPEED)
    [0x01, 0x07, present ? 0x01 : 0x00, 0x04, 0x08, 0, 0, 0],
  ];
}

function header(bodyLength: number, profile: number): number[] {
  const len = 4 + bodyLength;
  return [len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff, 0, 0, profile >> 8, profile & 0xff];
}

describe('engine/mmc GET CONFIGURATION', () => {
  it('RT 00b from feature 0 with a CD-ROM medium: every feature, current profile 0008h', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.getConfiguration(0, 0));
    const body = features('cd').flat();
    expect([...r.data]).to.deep.equal([...header(body.length, 0x0008), ...body]);
    await t.stop();
  });

  it('an image larger than an 80-minute CD is a DVD-ROM (profile 0010h, DVD read current, blocking 16)', async () => {
    const t = await start(sparseImage(CD_MAX_BLOCKS + 1));
    const s = await session(t);
    const r = await s.execute(0, cdb.getConfiguration(0, 0));
    const body = features('dvd').flat();
    expect([...r.data]).to.deep.equal([...header(body.length, 0x0010), ...body]);
    await t.stop();
    // an image of exactly 80 minutes is still a CD
    const cd = await start(sparseImage(CD_MAX_BLOCKS));
    expect((await (await session(cd)).execute(0, cdb.getConfiguration(0, 0))).data.readUInt16BE(6)).to.equal(0x0008);
    await cd.stop();
  });

  it('RT 01b with no medium: only current features (profile list, core, morphing, removable medium), profile 0000h', async () => {
    const t = await start(undefined);
    const s = await session(t);
    const r = await s.execute(0, cdb.getConfiguration(1, 0));
    expect(kcq(r)).to.equal('GOOD');
    const body = features('none').slice(0, 4).flat();
    expect([...r.data]).to.deep.equal([...header(body.length, 0x0000), ...body]);
    await t.stop();
  });

  it('STARTING FEATURE NUMBER: RT 00b lists from it on; RT 10b only it, or the header alone for a feature not had', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const from = await s.execute(0, cdb.getConfiguration(0, 0x0010));
    const body = features('cd').slice(4).flat();
    expect([...from.data]).to.deep.equal([...header(body.length, 0x0008), ...body]);
    const one = await s.execute(0, cdb.getConfiguration(2, 0x001f));
    expect([...one.data]).to.deep.equal([...header(8, 0x0008), ...features('cd')[6]]);
    const none = await s.execute(0, cdb.getConfiguration(2, 0x0020));
    expect([...none.data]).to.deep.equal(header(0, 0x0008));
    await t.stop();
  });

  it('RT 11b is reserved: INVALID FIELD IN CDB at byte 1 bit 1; the allocation length truncates', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.getConfiguration(3, 0));
    expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([r.sense![15], r.sense![16], r.sense![17]]).to.deep.equal([0xc9, 0x00, 0x01]);
    const short = await s.execute(0, cdb.getConfiguration(0, 0, 8));
    expect([...short.data]).to.deep.equal(header(features('cd').flat().length, 0x0008));
    await t.stop();
  });

  it('neither reports nor clears a unit attention (answered while one is pending)', async () => {
    const t = await start(image(300));
    const s = t.session('iqn.2026-11.example:fresh');
    expect(kcq(await s.execute(0, cdb.getConfiguration(1, 0, 8)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))[0]).to.equal(0x06); // the POWER ON unit attention is still there
    await t.stop();
  });
});
