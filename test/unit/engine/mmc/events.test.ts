import { expect } from 'chai';
import { cdb, image, INVALID_FIELD_IN_CDB, kcq, session, start } from './fixture';

/** GET EVENT STATUS NOTIFICATION (MMC-6), polled: operational change, media and device busy classes. */

const OPERATIONAL = 0x02, MEDIA = 0x10, BUSY = 0x40;
/** SUPPORTED EVENT CLASSES: operational change (1), media (4), device busy (6). */
const SUPPORTED = 0x52;

describe('engine/mmc GET EVENT STATUS NOTIFICATION', () => {
  it('Polled 0 (asynchronous) is not supported: INVALID FIELD IN CDB at byte 1 bit 0', async () => {
    const t = await start(image(64));
    const s = await session(t);
    const r = await s.execute(0, cdb.gesn(MEDIA, 8, false));
    expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([r.sense![15], r.sense![16], r.sense![17]]).to.deep.equal([0xc8, 0x00, 0x01]);
    await t.stop();
  });

  it('no supported class requested: the header alone, NEA 1, with the supported classes', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect([...(await s.execute(0, cdb.gesn(0x00))).data]).to.deep.equal([0x00, 0x02, 0x80, SUPPORTED]);
    expect([...(await s.execute(0, cdb.gesn(0x08))).data]).to.deep.equal([0x00, 0x02, 0x80, SUPPORTED]); // external request
    await t.stop();
  });

  it('nothing pending: media class says no change, medium present, tray closed', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect([...(await s.execute(0, cdb.gesn(MEDIA))).data]).to.deep.equal([0x00, 0x06, 0x04, SUPPORTED, 0x00, 0x02, 0x00, 0x00]);
    expect([...(await s.execute(0, cdb.gesn(BUSY))).data]).to.deep.equal([0x00, 0x06, 0x06, SUPPORTED, 0, 0, 0, 0]);
    // several classes: the highest priority (lowest number) requested
    expect([...(await s.execute(0, cdb.gesn(OPERATIONAL | MEDIA))).data]).to.deep.equal([0x00, 0x06, 0x01, SUPPORTED, 0, 0, 0, 0]);
    await t.stop();
  });

  it('after the host inserts a medium: operational change (feature change) first, then NEW MEDIA, each reported once per nexus', async () => {
    const t = await start(undefined);
    const a = await session(t, 'iqn.2026-11.example:a');
    const b = await session(t, 'iqn.2026-11.example:b');
    for (const s of [a, b]) expect([...(await s.execute(0, cdb.gesn(MEDIA))).data.subarray(4)]).to.deep.equal([0x00, 0x00, 0, 0]);
    await t.changeMedium('cd0', image(64));
    for (const s of [a, b]) {
      // operational change: OPERATIONAL EVENT 2h (change occurred), status available, OPERATIONAL CHANGE 0001h (feature change)
      expect([...(await s.execute(0, cdb.gesn(OPERATIONAL | MEDIA))).data]).to.deep.equal([0x00, 0x06, 0x01, SUPPORTED, 0x02, 0x00, 0x00, 0x01]);
      // media: NEW MEDIA (2h), MEDIA PRESENT
      expect([...(await s.execute(0, cdb.gesn(OPERATIONAL | MEDIA))).data]).to.deep.equal([0x00, 0x06, 0x04, SUPPORTED, 0x02, 0x02, 0x00, 0x00]);
      expect([...(await s.execute(0, cdb.gesn(MEDIA))).data.subarray(4)]).to.deep.equal([0x00, 0x02, 0, 0]);
    }
    await t.stop();
  });

  it('an eject by START STOP UNIT leaves MEDIA REMOVAL with the tray open; the polling answers while a unit attention is pending', async () => {
    const t = await start(image(64));
    const a = await session(t, 'iqn.2026-11.example:a');
    await a.execute(0, cdb.gesn(MEDIA));
    await a.execute(0, cdb.startStop(true, false));
    expect([...(await a.execute(0, cdb.gesn(MEDIA))).data.subarray(4)]).to.deep.equal([0x03, 0x01, 0, 0]);
    await a.execute(0, cdb.startStop(true, true));
    expect([...(await a.execute(0, cdb.gesn(MEDIA))).data.subarray(4)]).to.deep.equal([0x02, 0x02, 0, 0]);
    // a fresh nexus with POWER ON pending still gets its answer, and the unit attention stays
    const fresh = t.session('iqn.2026-11.example:fresh');
    expect(kcq(await fresh.execute(0, cdb.gesn(MEDIA)))).to.equal('GOOD');
    expect(kcq(await fresh.execute(0, cdb.tur()))[0]).to.equal(0x06);
    await t.stop();
  });
});
