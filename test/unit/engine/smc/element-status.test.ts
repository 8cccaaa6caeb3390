import { expect } from 'chai';
import {
  be16, cdb, DRIVE, INVALID_FIELD_IN_CDB, kcq, library, MAIL, parseElementStatus, session, SLOT, start, workDir,
} from './fixture';

/**
 * SMC-3 6.11 READ ELEMENT STATUS, byte by byte: the element status header, one page per element
 * type, descriptors with FULL, ACCESS, IMPEXP, SVALID and the source address, PVolTag with the
 * bar code (VOLTAG), the drives' NAA designators (DVCID), STARTING ELEMENT ADDRESS, NUMBER OF
 * ELEMENTS and the allocation length.
 */

const pad = (s: string, n: number): number[] => [...Buffer.from(s.padEnd(n, ' '), 'latin1')];

describe('engine/smc READ ELEMENT STATUS', () => {
  it('storage elements with VOLTAG: header, page header and a 52-byte descriptor per slot (SMC-3 6.11.2, 6.11.5)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, cdb.readElementStatus(2, 0, 0xffff, { volTag: true }));
    expect(kcq(r)).to.equal('GOOD');
    const d = Buffer.from(r.data);
    // Element status header: FIRST ELEMENT ADDRESS REPORTED 2000h, 6 elements, 8 + 6 * 52 bytes follow.
    expect([...d.subarray(0, 8)]).to.deep.equal([0x20, 0x00, 0x00, 0x06, 0x00, 0x00, 0x01, 0x40]);
    // Page header: type 2 (storage), PVOLTAG, descriptor length 52, 312 bytes of descriptors.
    expect([...d.subarray(8, 16)]).to.deep.equal([0x02, 0x80, 0x00, 52, 0x00, 0x00, 0x01, 0x38]);
    // Slot 1: address 2000h, ACCESS | FULL, no exception, SVALID 0, MEDIUM TYPE 1 (data), PVolTag.
    expect([...d.subarray(16, 16 + 52)]).to.deep.equal([
      0x20, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, ...pad('NXS001L6', 32), 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(d.length).to.equal(8 + 8 + 6 * 52);
    await t.stop();
  });

  it('without VOLTAG a descriptor is 16 bytes; an empty element is ACCESS only, with no tag', async () => {
    const dir = workDir();
    const t = await start(library(dir, { cartridges: [] }));
    const s = await session(t);
    const r = await s.execute(0, cdb.readElementStatus(2, 0, 1));
    const d = Buffer.from(r.data);
    expect([...d]).to.deep.equal([
      0x20, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 8 + 16,
      0x02, 0x00, 0x00, 16, 0x00, 0x00, 0x00, 16,
      0x20, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0x00, 0, 0, 0, 0, 0, 0,
    ]);
    await t.stop();
  });

  it('medium transport, import/export and data transfer pages; "all types" lists every element in address order', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const mt = Buffer.from((await s.execute(0, cdb.readElementStatus(1, 0, 10))).data);
    expect([...mt]).to.deep.equal([
      0, 0, 0, 1, 0, 0, 0, 24,
      0x01, 0x00, 0, 16, 0, 0, 0, 16,
      0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    // Import/export: INENAB | EXENAB | ACCESS, empty.
    const ie = parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(3, 0, 10))).data));
    expect(ie.pages.map(p => p.descriptors.map(e => [e.address, e.flags]))).to.deep.equal([[[MAIL(0), 0x38]]]);
    const dt = parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(4, 0, 10))).data));
    expect(dt.pages[0].descriptors.map(e => [e.address, e.flags])).to.deep.equal([[DRIVE(0), 0x08], [DRIVE(1), 0x08]]);
    const all = parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(0, 0, 0xffff, { volTag: true }))).data));
    expect(all.count).to.equal(1 + 2 + 1 + 6);
    expect(all.pages.map(p => [p.type, p.descriptors.length])).to.deep.equal([[1, 1], [4, 2], [3, 1], [2, 6]]);
    expect(all.pages[3].descriptors.map(e => e.tag!.trimEnd())).to.deep.equal(['NXS001L6', 'NXS002L6', 'NXS003L6', 'NXS004L6', 'NXS005L6', 'NXS006L6']);
    expect(all.byteCount).to.equal(all.pages.reduce((a, p) => a + 8 + p.len * p.descriptors.length, 0));
    await t.stop();
  });

  it('DVCID: each drive reports the NAA designator its own VPD 83h gives (code set binary, type NAA, 16 bytes)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, cdb.readElementStatus(4, 0, 10, { volTag: true, dvcid: true }));
    const d = Buffer.from(r.data);
    // Descriptor length: 12 + 36 (PVolTag) + 4 + 16.
    expect(d.readUInt16BE(8 + 2)).to.equal(68);
    const first = 16;
    expect([...d.subarray(first + 48, first + 52)]).to.deep.equal([0x01, 0x03, 0x00, 16]);
    for (const [i, lun] of [[0, 1], [1, 2]]) {
      const vpd = Buffer.from((await s.execute(lun, cdb.inquiry(255, true, 0x83))).data);
      // VPD 83h's first designator: NAA, binary, association LU: header 01 03 00 10, then 16 bytes.
      expect([...vpd.subarray(4, 8)]).to.deep.equal([0x01, 0x03, 0x00, 0x10]);
      const ident = parseElementStatus(d).pages[0].descriptors[i].ident!;
      expect(ident.equals(vpd.subarray(8, 24))).to.equal(true);
    }
    // Without DVCID the identifier is absent (IDENTIFIER LENGTH 0, descriptor 52 bytes).
    const plain = Buffer.from((await s.execute(0, cdb.readElementStatus(4, 0, 10, { volTag: true }))).data);
    expect(plain.readUInt16BE(10)).to.equal(52);
    await t.stop();
  });

  it('STARTING ELEMENT ADDRESS and NUMBER OF ELEMENTS choose the descriptors; CURDATA is accepted', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(2, SLOT(3), 2, { curData: true }))).data));
    expect([r.first, r.count]).to.deep.equal([SLOT(3), 2]);
    expect(r.pages[0].descriptors.map(e => e.address)).to.deep.equal([SLOT(3), SLOT(4)]);
    // All types from the first mail slot on: the mail slot, then the storage slots.
    const m = parseElementStatus(Buffer.from((await s.execute(0, cdb.readElementStatus(0, MAIL(0), 3))).data));
    expect(m.pages.map(p => p.descriptors.map(e => e.address))).to.deep.equal([[MAIL(0)], [SLOT(1), SLOT(2)]]);
    // Nothing at or above the start: a header with no element.
    const none = Buffer.from((await s.execute(0, cdb.readElementStatus(2, 0x3000, 5))).data);
    expect([...none]).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    await t.stop();
  });

  it('the allocation length truncates the data but not the byte count in the header', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, cdb.readElementStatus(2, 0, 0xffff, { volTag: true, alloc: 8 }));
    expect(kcq(r)).to.equal('GOOD');
    expect([...Buffer.from(r.data)]).to.deep.equal([0x20, 0x00, 0x00, 0x06, 0x00, 0x00, ...be16(8 + 6 * 52)]);
    const z = await s.execute(0, cdb.readElementStatus(2, 0, 0xffff, { alloc: 0 }));
    expect(kcq(z)).to.equal('GOOD');
    expect(z.data.length).to.equal(0);
    await t.stop();
  });

  it('an element type code above 4, and reserved bits of byte 6, are INVALID FIELD IN CDB', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.readElementStatus(5, 0, 1)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    const c = cdb.readElementStatus(2, 0, 1);
    c[6] |= 0x04;
    expect(kcq(await s.execute(0, c))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });
});
