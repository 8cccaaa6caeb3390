import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import { ram } from '../embedded/fixture';
import { BLOCK, cdb, image, kcq, MEDIUM_MAY_HAVE_CHANGED, NOT_READY_TRAY_CLOSED, NOT_READY_TRAY_OPEN, session, start } from './fixture';

/**
 * The medium of a drive: TEST UNIT READY with the tray state, START STOP UNIT eject and load,
 * PREVENT ALLOW MEDIUM REMOVAL, and the host changing the medium while initiators use it.
 */

describe('engine/mmc medium, tray and medium change', () => {
  it('an empty drive: NOT READY, MEDIUM NOT PRESENT - TRAY CLOSED (3Ah/01h), REQUEST SENSE says so too', async () => {
    const t = await start(undefined);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    expect(kcq(await s.execute(0, cdb.readCapacity()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    const rs = await s.execute(0, cdb.requestSense());
    expect([rs.data[2] & 0x0f, rs.data[12], rs.data[13]]).to.deep.equal(NOT_READY_TRAY_CLOSED);
    await t.stop();
  });

  it('START STOP UNIT LoEj eject opens the tray (3Ah/02h); load closes it and the medium is back', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.startStop(true, false)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_OPEN);
    expect(kcq(await s.execute(0, cdb.read10(0, 1)))).to.deep.equal(NOT_READY_TRAY_OPEN);
    expect(kcq(await s.execute(0, cdb.startStop(true, true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    await t.stop();
  });

  it('loading an empty drive closes the tray and finds no medium (3Ah/01h)', async () => {
    const t = await start(undefined);
    const s = await session(t);
    await s.execute(0, cdb.startStop(true, false));
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_OPEN);
    await s.execute(0, cdb.startStop(true, true));
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    await t.stop();
  });

  it('a locked tray refuses the eject: ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED (53h/02h); ALLOW unlocks it', async () => {
    const t = await start(image(64));
    const s = await session(t);
    await s.execute(0, cdb.prevent(true));
    expect(kcq(await s.execute(0, cdb.startStop(true, false)))).to.deep.equal([0x05, 0x53, 0x02]);
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    await s.execute(0, cdb.prevent(false));
    expect(kcq(await s.execute(0, cdb.startStop(true, false)))).to.equal('GOOD');
    await t.stop();
  });

  it('MMC START STOP UNIT: FL and FORMAT-LAYER NUMBER are refused; POWER CONDITIONS leave the medium', async () => {
    const t = await start(image(64));
    const s = await session(t);
    expect(kcq(await s.execute(0, [0x1b, 0, 0, 0, 0x04, 0]))).to.deep.equal([0x05, 0x24, 0x00]);
    expect(kcq(await s.execute(0, [0x1b, 0, 0, 0x01, 0, 0]))).to.deep.equal([0x05, 0x24, 0x00]);
    expect(kcq(await s.execute(0, [0x1b, 0, 0, 0, 0x52, 0]))).to.equal('GOOD'); // SLEEP with LoEj: no eject
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    await t.stop();
  });

  it('host changes the medium: every I_T nexus gets NOT READY TO READY CHANGE (28h/00h) once, then reads the new image', async () => {
    const t = await start(image(64, 0xa1));
    const a = await session(t, 'iqn.2026-11.example:a');
    const b = await session(t, 'iqn.2026-11.example:b');
    for (const s of [a, b]) await s.execute(0, cdb.tur());
    await t.changeMedium('cd0', image(80, 0xb2));
    for (const s of [a, b]) {
      expect(kcq(await s.execute(0, cdb.read10(0, 1)))).to.deep.equal(MEDIUM_MAY_HAVE_CHANGED);
      const r = await s.execute(0, cdb.read10(79, 1));
      expect(kcq(r)).to.equal('GOOD');
      expect(r.data[0]).to.equal(0xb2);
      expect(r.data.readUInt32BE(1)).to.equal(79);
    }
    expect((await a.execute(0, cdb.readCapacity())).data.readUInt32BE(0)).to.equal(79);
    await t.stop();
  });

  it('host ejects: the tray is open and empty; a load finds nothing; inserting closes it with the unit attention', async () => {
    const t = await start(image(64));
    const s = await session(t);
    await s.execute(0, cdb.tur());
    await t.changeMedium('cd0');
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_OPEN);
    await s.execute(0, cdb.startStop(true, true));
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_READY_TRAY_CLOSED);
    await t.changeMedium('cd0', image(16, 0x33));
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(MEDIUM_MAY_HAVE_CHANGED);
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    expect((await s.execute(0, cdb.read10(0, 1))).data.length).to.equal(BLOCK);
    await t.stop();
  });

  it('a locked tray refuses the host\'s change too (ERR_MEDIUM_REMOVAL_PREVENTED), and the medium stays', async () => {
    const t = await start(image(64, 0xa1));
    const s = await session(t);
    await s.execute(0, cdb.prevent(true));
    for (const path of [undefined, image(8)]) {
      let code: string | undefined;
      try { await t.changeMedium('cd0', path); } catch (e) { code = (e as { code?: string }).code; }
      expect(code).to.equal('ERR_MEDIUM_REMOVAL_PREVENTED');
    }
    expect((await s.execute(0, cdb.read10(0, 1))).data[0]).to.equal(0xa1);
    await t.stop();
  });

  it('an image that cannot be opened leaves the medium in the drive; a disk has no medium to change', async () => {
    const t = await start(image(64, 0xa1));
    const s = await session(t);
    let code: string | undefined;
    try { await t.changeMedium('cd0', '/nonexistent/image.iso'); } catch (e) { code = (e as { code?: string }).code; }
    expect(code).to.equal('ENOENT');
    expect((await s.execute(0, cdb.read10(0, 1))).data[0]).to.equal(0xa1);
    await t.stop();
    const e = await Engine.create({ devices: [ram('disk0')], targets: [] });
    code = undefined;
    try { await e.changeMedium('disk0', image(8)); } catch (err) { code = (err as { code?: string }).code; }
    expect(code).to.equal('ERR_NO_REMOVABLE_MEDIUM');
    await e.close();
  });
});
