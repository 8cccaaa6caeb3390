import { expect } from 'chai';
import {
  cartridgeFile, cdb, DRIVE, IMPORT_EXPORT_ACCESSED, kcq, library, MAIL, parseElementStatus, session, SLOT, start, workDir,
} from './fixture';
import { NexusError } from '../../../../src/engine/result';

/**
 * The operator at the mail slot while initiators use the library: a new cartridge put in, one
 * taken out, IMPORT OR EXPORT ELEMENT ACCESSED (28h/01h) to every initiator, and the lock that
 * PREVENT ALLOW MEDIUM REMOVAL puts on the import/export elements (SMC-3 6.9).
 */

async function refused(p: Promise<unknown>): Promise<string | undefined> {
  try { await p; } catch (e) { return e instanceof NexusError ? e.code : String(e); }
  return undefined;
}

describe('engine/smc operator at the mail slot', () => {
  it('import: the cartridge is in the mail slot (IMPEXP 1, SVALID 0, its bar code), every initiator gets 28h/01h, and it can be moved in', async () => {
    const dir = workDir();
    const t = await start(library(dir));
    const a = await session(t, 'iqn.2026-11.example:a');
    const b = await session(t, 'iqn.2026-11.example:b');
    expect(await t.libraryImport('lib0', { barcode: 'NEW001L6', path: cartridgeFile(dir, 0xb1) })).to.equal(MAIL(0));
    expect(kcq(await a.execute(0, cdb.tur()))).to.deep.equal(IMPORT_EXPORT_ACCESSED);
    expect(kcq(await b.execute(0, cdb.readElementStatus(3, 0, 1)))).to.deep.equal(IMPORT_EXPORT_ACCESSED);
    expect(kcq(await a.execute(0, cdb.tur()))).to.equal('GOOD');
    const r = parseElementStatus(Buffer.from((await a.execute(0, cdb.readElementStatus(3, 0, 1, { volTag: true }))).data));
    const e = r.pages[0].descriptors[0];
    expect([e.flags, e.svalid, e.tag!.trimEnd()]).to.deep.equal([0x3b, false, 'NEW001L6']);
    await a.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0)));
    expect(kcq(await a.execute(0, cdb.moveMedium(MAIL(0), SLOT(1))))).to.equal('GOOD');
    await t.stop();
  });

  it('export: a cartridge moved to the mail slot is taken out and gone from the library, with 28h/01h', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(5), MAIL(0)));
    expect(await t.libraryExport('lib0', 'NXS005L6')).to.deep.include({ barcode: 'NXS005L6' });
    expect(kcq(await s.execute(0, cdb.tur()))).to.deep.equal(IMPORT_EXPORT_ACCESSED);
    expect(t.libraryInventory('lib0').some(e => e.barcode === 'NXS005L6')).to.equal(false);
    expect(kcq(await s.execute(0, cdb.moveMedium(MAIL(0), SLOT(5))))).to.deep.equal([0x05, 0x3b, 0x0e]);
    await t.stop();
  });

  it('a locked mail slot (PREVENT) refuses the operator both ways; ALLOW opens it', async () => {
    const dir = workDir();
    const t = await start(library(dir));
    const s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(5), MAIL(0)));
    expect(kcq(await s.execute(0, cdb.prevent(true)))).to.equal('GOOD');
    expect(await refused(t.libraryExport('lib0', 'NXS005L6'))).to.equal('ERR_MEDIUM_REMOVAL_PREVENTED');
    // MOVE MEDIUM by the library itself still works with the mail slot locked.
    expect(kcq(await s.execute(0, cdb.moveMedium(MAIL(0), SLOT(5))))).to.equal('GOOD');
    expect(await refused(t.libraryImport('lib0', { barcode: 'NEW002L6', path: cartridgeFile(dir, 0xb2) }))).to.equal('ERR_MEDIUM_REMOVAL_PREVENTED');
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    await s.execute(0, cdb.prevent(false));
    expect(await t.libraryImport('lib0', { barcode: 'NEW002L6', path: cartridgeFile(dir, 0xb2) })).to.equal(MAIL(0));
    await t.stop();
  });

  it('refusals: a full mail slot, a bar code the library has, one that is not in a mail slot, an unknown one, a device that is no changer', async () => {
    const dir = workDir();
    const t = await start(library(dir));
    const p = cartridgeFile(dir, 0xb3);
    expect(await refused(t.libraryImport('lib0', { barcode: 'NXS001L6', path: p }))).to.equal('ERR_LIBRARY');
    expect(await refused(t.libraryImport('lib0', { barcode: 'has space', path: p }))).to.equal('ERR_LIBRARY');
    expect(await refused(t.libraryImport('lib0', { barcode: 'NEW003L6', path: p }, 2))).to.equal('ERR_LIBRARY');
    await t.libraryImport('lib0', { barcode: 'NEW003L6', path: p }, 1);
    expect(await refused(t.libraryImport('lib0', { barcode: 'NEW004L6', path: p }))).to.equal('ERR_LIBRARY');
    expect(await refused(t.libraryExport('lib0', 'NXS001L6'))).to.equal('ERR_LIBRARY');
    expect(await refused(t.libraryExport('lib0', 'NOPE'))).to.equal('ERR_LIBRARY');
    expect(await refused(Promise.resolve().then(() => t.libraryInventory('tape0')))).to.equal('ERR_NO_LIBRARY');
    await t.stop();
  });

  it('the inventory names each element, its address, the drive devices and the cartridges', async () => {
    const t = await start(library(workDir()));
    const inv = t.libraryInventory('lib0');
    expect(inv.length).to.equal(1 + 2 + 1 + 6);
    expect(inv[0]).to.deep.equal({ element: 'transport', number: 0, address: 0 });
    expect(inv[1]).to.deep.equal({ element: 'drive', number: 0, address: DRIVE(0), device: 'tape0' });
    expect(inv[4]).to.deep.include({ element: 'slot', number: 1, address: SLOT(1), barcode: 'NXS001L6' });
    await t.stop();
  });
});
