import { expect } from 'chai';
import { join } from 'node:path';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Cartridge } from '../../../../src/engine/backstores/tape-cartridge';
import { LibraryConfig } from '../../../../src/engine/topology';
import { changer, DRIVE, kcq, SLOT, TARGET, workDir, cdb as smc } from './fixture';
import { drive as tapeDrive, cdb as ssc } from '../ssc/fixture';

/**
 * The library the README describes: a changer whose drives are tape drives (SSC-4) and whose
 * cartridges are tape cartridge files. MOVE MEDIUM loads a cartridge through the drive's own
 * medium change, so what one cartridge is given is read back after it went to its slot and
 * came back, and another cartridge in the same drive is another tape.
 */
describe('engine/smc library of tape drives', () => {
  let t: EmbeddedTarget | undefined;
  afterEach(async () => { await t?.stop(); t = undefined; });

  /** TEST UNIT READY until no unit attention is left on `lun`. */
  async function settle(s: ReturnType<EmbeddedTarget['session']>, lun: number): Promise<void> {
    for (let i = 0; i < 4; i++) if ((await s.execute(lun, ssc.tur())).senseKey !== 0x06) return;
  }

  async function tapeLibrary(): Promise<EmbeddedTarget> {
    const dir = workDir();
    const cartridges = [];
    for (const n of [1, 2]) {
      const path = join(dir, `NXS00${n}L6.tape`);
      await Cartridge.create(path, { barcode: `NXS00${n}L6`, capacityBytes: 4 * 1024 * 1024 });
      cartridges.push({ barcode: `NXS00${n}L6`, path, slot: n });
    }
    const lib: LibraryConfig = { drives: ['st0', 'st1'], slots: 4, mailSlots: 1, cartridges, statePath: join(dir, 'state', 'lib0.library.json') };
    return EmbeddedTarget.start({
      devices: [changer(lib), tapeDrive('st0', undefined), tapeDrive('st1', undefined)],
      targets: [{
        driver: 'local', name: TARGET, portals: [], groups: [],
        luns: [{ lun: 0, device: 'lib0', readOnly: false }, { lun: 1, device: 'st0', readOnly: false }, { lun: 2, device: 'st1', readOnly: false }],
      }],
    });
  }

  it('an empty tape drive is NOT READY, MEDIUM NOT PRESENT; after MOVE MEDIUM it reports the load (28h/00h) and the cartridge is its barcode', async () => {
    t = await tapeLibrary();
    const s = t.session('iqn.2026-12.example:backup');
    await s.execute(0, smc.tur());
    await s.execute(1, ssc.tur());
    expect(kcq(await s.execute(0, smc.tur()))).to.equal('GOOD');
    expect(kcq(await s.execute(1, ssc.tur()))).to.deep.equal([0x02, 0x3a, 0x00]);
    expect(kcq(await s.execute(0, smc.moveMedium(SLOT(1), DRIVE(0))))).to.equal('GOOD');
    expect(kcq(await s.execute(1, ssc.tur()))).to.deep.equal([0x06, 0x28, 0x00]);
    expect(kcq(await s.execute(1, ssc.tur()))).to.equal('GOOD');
    expect(t.mediumOf('st0')?.barcode).to.equal('NXS001L6');
  });

  it('data written to a cartridge comes back after it went to its slot and back; another cartridge is another tape', async () => {
    t = await tapeLibrary();
    const s = t.session('iqn.2026-12.example:backup');
    await settle(s, 0);
    const data = Buffer.alloc(4096, 0x5a);
    expect(kcq(await s.execute(0, smc.moveMedium(SLOT(1), DRIVE(0))))).to.equal('GOOD');
    await settle(s, 1);
    expect(kcq(await s.execute(1, ssc.write6(data.length), { dataOut: data }))).to.equal('GOOD');
    expect(kcq(await s.execute(1, ssc.writeFilemarks6(1)))).to.equal('GOOD');
    // Back to its slot, the other cartridge in: it is blank (BLANK CHECK, END-OF-DATA DETECTED).
    expect(kcq(await s.execute(0, smc.moveMedium(DRIVE(0), SLOT(1))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, smc.moveMedium(SLOT(2), DRIVE(0))))).to.equal('GOOD');
    await settle(s, 1);
    expect(kcq(await s.execute(1, ssc.read6(data.length)))).to.deep.equal([0x08, 0x00, 0x05]);
    // The first cartridge again: its block, then the filemark.
    expect(kcq(await s.execute(0, smc.moveMedium(DRIVE(0), SLOT(2))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, smc.moveMedium(SLOT(1), DRIVE(0))))).to.equal('GOOD');
    await settle(s, 1);
    const r = await s.execute(1, ssc.read6(data.length));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.equals(data)).to.equal(true);
    expect(kcq(await s.execute(1, ssc.read6(data.length)))).to.deep.equal([0x00, 0x00, 0x01]);
  });
});
