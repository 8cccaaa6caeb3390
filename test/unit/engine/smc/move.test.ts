import { expect } from 'chai';
import {
  BLOCK, cdb, DESTINATION_FULL, DRIVE, INVALID_ELEMENT_ADDRESS, INVALID_FIELD_IN_CDB, kcq, library, MAIL,
  MEDIUM_MAY_HAVE_CHANGED, parseElementStatus, REMOVAL_PREVENTED, session, SLOT, SOURCE_EMPTY, start, workDir,
} from './fixture';
import { LocalSession } from '../../../../src/transports/local/session';

/**
 * SMC-3 6.6 MOVE MEDIUM between storage, data transfer and import/export elements: the cartridge
 * appears in the drive through its removable-medium operation (the drive's unit attention, its
 * data), SVALID and the source address follow it, and the SMC sense codes for what cannot move.
 */

async function storage(s: LocalSession): Promise<ReturnType<typeof parseElementStatus>> {
  return parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(0, 0, 0xffff, { volTag: true }))).data));
}

function at(r: ReturnType<typeof parseElementStatus>, address: number) {
  for (const p of r.pages) for (const e of p.descriptors) if (e.address === address) return e;
  throw new Error(`no element ${address}`);
}

describe('engine/smc MOVE MEDIUM', () => {
  it('slot -> drive: the drive gets the cartridge (UA 28h/00h there, its blocks readable), the slot empties, SVALID names the slot', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(1, cdb.tur()))).to.deep.equal([0x02, 0x3a, 0x01]);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(2), DRIVE(0))))).to.equal('GOOD');
    expect(kcq(await s.execute(1, cdb.tur()))).to.deep.equal(MEDIUM_MAY_HAVE_CHANGED);
    expect(kcq(await s.execute(1, cdb.tur()))).to.equal('GOOD');
    const r = await s.execute(1, cdb.read10(0, 1));
    expect(r.data.length).to.equal(BLOCK);
    expect(r.data[0]).to.equal(0xa2);
    const st = await storage(s);
    expect(at(st, SLOT(2)).flags & 1).to.equal(0);
    const d = at(st, DRIVE(0));
    expect([d.flags & 1, d.svalid, d.source, d.tag!.trimEnd()]).to.deep.equal([1, true, SLOT(2), 'NXS002L6']);
    await t.stop();
  });

  it('drive -> slot unloads the drive (NOT READY there); the slot says where it came from', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(1)));
    await s.execute(2, cdb.tur());
    expect(kcq(await s.execute(0, cdb.moveMedium(DRIVE(1), SLOT(1))))).to.equal('GOOD');
    expect(kcq(await s.execute(2, cdb.tur()))[0]).to.equal(0x02);
    const e = at(await storage(s), SLOT(1));
    expect([e.flags & 1, e.svalid, e.source, e.tag!.trimEnd()]).to.deep.equal([1, true, DRIVE(1), 'NXS001L6']);
    await t.stop();
  });

  it('drive -> drive, slot -> mail slot -> slot, slot -> slot', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(3), DRIVE(0))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.moveMedium(DRIVE(0), DRIVE(1))))).to.equal('GOOD');
    await s.execute(2, cdb.tur());
    expect((await s.execute(2, cdb.read10(0, 1))).data[0]).to.equal(0xa3);
    // Drive 0 had the cartridge (its unit attention is still queued), then gave it up.
    expect(kcq(await s.execute(1, cdb.tur()))).to.deep.equal(MEDIUM_MAY_HAVE_CHANGED);
    expect(kcq(await s.execute(1, cdb.tur()))[0]).to.equal(0x02);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(4), MAIL(0))))).to.equal('GOOD');
    const m = at(await storage(s), MAIL(0));
    // Exported by the transport: FULL, IMPEXP 0, SVALID with slot 4.
    expect([m.flags, m.svalid, m.source]).to.deep.equal([0x39, true, SLOT(4)]);
    expect(kcq(await s.execute(0, cdb.moveMedium(MAIL(0), SLOT(4))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(4), SLOT(3))))).to.equal('GOOD');
    const inv = t.libraryInventory('lib0').filter(e => e.barcode).map(e => `${e.element}${e.number}:${e.barcode}`);
    expect(inv).to.deep.equal(['drive1:NXS003L6', 'slot1:NXS001L6', 'slot2:NXS002L6', 'slot3:NXS004L6', 'slot5:NXS005L6', 'slot6:NXS006L6']);
    await t.stop();
  });

  it('MEDIUM SOURCE ELEMENT EMPTY (3Bh/0Eh) and MEDIUM DESTINATION ELEMENT FULL (3Bh/0Dh)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.moveMedium(DRIVE(0), SLOT(1))))).to.deep.equal(SOURCE_EMPTY);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), SLOT(2))))).to.deep.equal(DESTINATION_FULL);
    await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0)));
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(2), DRIVE(0))))).to.deep.equal(DESTINATION_FULL);
    // The medium transport never holds a cartridge.
    expect(kcq(await s.execute(0, cdb.moveMedium(0, SLOT(1))))).to.deep.equal(SOURCE_EMPTY);
    await t.stop();
  });

  it('INVALID ELEMENT ADDRESS (21h/01h): a source, destination or transport the library does not have', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(7), DRIVE(0))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(2))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), MAIL(1))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0), SLOT(2))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    // Into the transport: not a move the device capabilities page offers.
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), 0)))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    // INVERT (byte 10 bit 0): media are one-sided here.
    const c = cdb.moveMedium(SLOT(1), DRIVE(0));
    c[10] = 1;
    expect(kcq(await s.execute(0, c))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });

  it('a drive whose medium an initiator prevented from removal refuses to give it up: MEDIUM REMOVAL PREVENTED (53h/02h)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0)));
    await s.execute(1, cdb.tur());
    expect(kcq(await s.execute(1, cdb.prevent(true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.moveMedium(DRIVE(0), SLOT(1))))).to.deep.equal(REMOVAL_PREVENTED);
    expect(kcq(await s.execute(1, cdb.tur()))).to.equal('GOOD');
    expect(t.libraryInventory('lib0').find(e => e.address === DRIVE(0))!.barcode).to.equal('NXS001L6');
    await s.execute(1, cdb.prevent(false));
    expect(kcq(await s.execute(0, cdb.moveMedium(DRIVE(0), SLOT(1))))).to.equal('GOOD');
    await t.stop();
  });

  it('a cartridge whose file the drive cannot open goes back: HARDWARE ERROR, MEDIA LOAD OR EJECT FAILED (53h/00h)', async () => {
    const dir = workDir();
    const lib = library(dir);
    lib.cartridges[0].path = `${dir}/missing.iso`;
    const t = await start(lib);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0))))).to.deep.equal([0x04, 0x53, 0x00]);
    const inv = t.libraryInventory('lib0');
    expect(inv.find(e => e.address === SLOT(1))!.barcode).to.equal('NXS001L6');
    expect(inv.find(e => e.address === DRIVE(0))!.barcode).to.equal(undefined);
    await t.stop();
  });
});
