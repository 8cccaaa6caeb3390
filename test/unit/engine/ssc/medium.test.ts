import { statSync, truncateSync } from 'node:fs';
import { expect } from 'chai';
import { Engine } from '../../../../src/engine/engine';
import {
  block, cartridge, drive, cdb, EOD, kcq, MEDIUM_MAY_HAVE_CHANGED, NOT_PRESENT, position, REMOVAL_PREVENTED, session, start,
} from './fixture';

/**
 * The cartridge in the drive: LOAD UNLOAD, ERASE, PREVENT ALLOW MEDIUM REMOVAL, the host's
 * removable-medium operation (what a medium changer calls), and a cartridge cut by a crash.
 */

describe('engine/ssc medium', () => {
  it('an empty drive: NOT READY, MEDIUM NOT PRESENT (3Ah/00h) for medium commands and REQUEST SENSE', async () => {
    const t = await start(undefined);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_PRESENT);
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(NOT_PRESENT);
    expect(kcq(await s.execute(0, cdb.readPosition(0)))).to.deep.equal(NOT_PRESENT);
    expect(kcq(await s.execute(0, cdb.loadUnload(true)))).to.deep.equal(NOT_PRESENT);
    const rs = await s.execute(0, cdb.requestSense());
    expect([rs.data[2] & 0x0f, rs.data[12], rs.data[13]]).to.deep.equal(NOT_PRESENT);
    expect(kcq(await s.execute(0, cdb.readBlockLimits()))).to.equal('GOOD');
    await t.stop();
  });

  it('LOAD UNLOAD: unload makes the medium not ready; load (RETEN, HOLD accepted) brings it back at BOP; EOT is not claimed', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(10), { dataOut: block(10, 1) });
    expect(kcq(await s.execute(0, cdb.loadUnload(false)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_PRESENT);
    expect(kcq(await s.execute(0, cdb.loadUnload(true, true, true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    expect(await position(s)).to.equal(0);
    expect((await s.execute(0, cdb.read6(10))).data[0]).to.equal(1);
    expect(kcq(await s.execute(0, [0x1b, 0, 0, 0, 0x04, 0]))).to.deep.equal([0x05, 0x24, 0x00]);
    await t.stop();
  });

  it('PREVENT ALLOW MEDIUM REMOVAL: an unload is refused (53h/02h) until ALLOW, and the host cannot take the cartridge', async () => {
    const c = await cartridge();
    const t = await start(c);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.prevent(true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.loadUnload(false)))).to.deep.equal(REMOVAL_PREVENTED);
    await t.changeMedium('st0').then(() => expect.fail(), e => expect(e.code).to.equal('ERR_MEDIUM_REMOVAL_PREVENTED'));
    expect(kcq(await s.execute(0, cdb.prevent(false)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.loadUnload(false)))).to.equal('GOOD');
    await t.stop();
  });

  it('the host loads a cartridge: every nexus gets NOT READY TO READY CHANGE (28h/00h), then the cartridge is there at BOP', async () => {
    const a = await cartridge({ barcode: 'AAA001' });
    const b = await cartridge({ barcode: 'BBB001' });
    const t = await start(a);
    const s = await session(t);
    await s.execute(0, cdb.write6(10), { dataOut: block(10, 0xaa) });
    expect(t.mediumOf('st0')).to.deep.equal({ path: a, barcode: 'AAA001', loaded: true });
    await t.changeMedium('st0');
    expect(t.mediumOf('st0')).to.equal(undefined);
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(NOT_PRESENT);
    await t.changeMedium('st0', b);
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(MEDIUM_MAY_HAVE_CHANGED);
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(EOD);
    await t.changeMedium('st0', a);
    await s.execute(0, cdb.tur());
    expect((await s.execute(0, cdb.read6(10))).data[0]).to.equal(0xaa);
    await t.stop();
  });

  it('the engine reports the cartridge in the drive for a medium changer (mediumOf)', async () => {
    const c = await cartridge({ barcode: 'LIB042' });
    const e = await Engine.create({ devices: [drive('st0', c)], targets: [] });
    expect(e.mediumOf('st0')).to.deep.equal({ path: c, barcode: 'LIB042', loaded: true });
    await e.changeMedium('st0');
    expect(e.mediumOf('st0')).to.equal(undefined);
    await e.close();
  });

  it('ERASE at a position makes it end-of-data (long and short)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    for (let i = 0; i < 4; i++) await s.execute(0, cdb.write6(10), { dataOut: block(10, i) });
    await s.execute(0, cdb.locate10(2));
    expect(kcq(await s.execute(0, cdb.erase6(false)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(EOD);
    await s.execute(0, cdb.rewind());
    expect(kcq(await s.execute(0, cdb.erase6(true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(EOD);
    await t.stop();
  });

  it('crash: a cartridge cut inside its last record reads up to the record before, and a later append continues there', async () => {
    const c = await cartridge();
    let t = await start(c);
    let s = await session(t);
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 1) });
    await s.execute(0, cdb.writeFilemarks6(1));
    const whole = statSync(c).size;
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 2) });
    await t.stop();
    truncateSync(c, whole + 50); // the last record's header and half its data
    t = await start(c);
    s = await session(t);
    expect(kcq(await s.execute(0, cdb.read6(100)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.read6(100)))).to.deep.equal([0x00, 0x00, 0x01]);
    expect(kcq(await s.execute(0, cdb.read6(100)))).to.deep.equal(EOD);
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 3) });
    await t.stop();
    t = await start(c);
    s = await session(t);
    await s.execute(0, cdb.locate10(2));
    expect((await s.execute(0, cdb.read6(100))).data[0]).to.equal(3);
    await t.stop();
  });
});
