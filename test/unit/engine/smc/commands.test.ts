import { expect } from 'chai';
import {
  cdb, DRIVE, INVALID_ELEMENT_ADDRESS, INVALID_OPCODE, kcq, library, MAIL, session, SLOT, start, workDir,
} from './fixture';

/**
 * The changer's identity and the SMC-3 commands around MOVE MEDIUM: INQUIRY (peripheral device
 * type 08h, VPD 80h/83h), the element address assignment, transport geometry and device
 * capabilities mode pages, INITIALIZE ELEMENT STATUS (with range), POSITION TO ELEMENT, and the
 * commands it does not claim.
 */

describe('engine/smc commands', () => {
  it('INQUIRY: peripheral device type 08h (medium changer), RMB 1; VPD 00h lists 80h and 83h', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, cdb.inquiry());
    expect([r.data[0], r.data[1]]).to.deep.equal([0x08, 0x80]);
    const vpd = await s.execute(0, cdb.inquiry(255, true, 0x00));
    expect([...vpd.data.subarray(4)]).to.include.members([0x00, 0x80, 0x83]);
    expect(kcq(await s.execute(0, cdb.inquiry(255, true, 0x83)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.tur()))).to.equal('GOOD');
    await t.stop();
  });

  it('MODE SENSE element address assignment page 1Dh (SMC-3 7.3.2): the documented ranges and counts', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, cdb.modeSense6(0x1d));
    expect(kcq(r)).to.equal('GOOD');
    // MODE SENSE(6) header: MODE DATA LENGTH 3 + 20, no block descriptor.
    expect([...r.data]).to.deep.equal([
      23, 0, 0, 0,
      0x1d, 0x12,
      0x00, 0x00, 0x00, 0x01, // medium transport 0000h, 1
      0x20, 0x00, 0x00, 0x06, // storage 2000h, 6
      0x10, 0x00, 0x00, 0x01, // import/export 1000h, 1
      0x01, 0x00, 0x00, 0x02, // data transfer 0100h, 2
      0x00, 0x00,
    ]);
    await t.stop();
  });

  it('MODE SENSE transport geometry 1Eh and device capabilities 1Fh (no EXCHANGE MEDIUM claimed)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect([...(await s.execute(0, cdb.modeSense6(0x1e))).data]).to.deep.equal([7, 0, 0, 0, 0x1e, 0x02, 0x00, 0x00]);
    expect([...(await s.execute(0, cdb.modeSense10(0x1f))).data]).to.deep.equal([
      0, 26, 0, 0, 0, 0, 0, 0,
      0x1f, 0x12,
      0x0e, 0x00, // StorDT StorI/E StorST
      0x00, 0x0e, 0x0e, 0x0e, // MT -> none; ST, I/E, DT -> ST, I/E, DT
      0, 0, 0, 0,
      0, 0, 0, 0, // no exchange capabilities
      0, 0, 0, 0,
    ]);
    // All pages: SPC-4's control and informational exceptions pages, then 1Dh, 1Eh, 1Fh.
    const all = (await s.execute(0, cdb.modeSense10(0x3f))).data;
    const codes: number[] = [];
    for (let p = 8; p < all.length; p += 2 + all[p + 1]) codes.push(all[p] & 0x3f);
    expect(codes).to.deep.equal([0x0a, 0x1c, 0x1d, 0x1e, 0x1f]);
    await t.stop();
  });

  it('MODE SELECT cannot change the library pages (nothing changeable)', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const changeable = await s.execute(0, [0x1a, 0x08, 0x40 | 0x1d, 0, 0xff, 0]);
    expect([...changeable.data.subarray(4)]).to.deep.equal([0x1d, 0x12, ...new Array(18).fill(0)]);
    const page = [0x1d, 0x12, 0, 0, 0, 1, 0x20, 0, 0, 7, 0x10, 0, 0, 1, 1, 0, 0, 2, 0, 0];
    const data = Uint8Array.from([0, 0, 0, 0, ...page]);
    const r = await s.execute(0, [0x15, 0x10, 0, 0, data.length, 0], { dataOut: data });
    expect(kcq(r)).to.deep.equal([0x05, 0x26, 0x00]);
    await t.stop();
  });

  it('INITIALIZE ELEMENT STATUS; WITH RANGE checks the starting element only when RANGE is one', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.initializeElementStatus()))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.initializeElementStatusWithRange(true, SLOT(1), 6, true)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.initializeElementStatusWithRange(true, 0x3000, 1)))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    expect(kcq(await s.execute(0, cdb.initializeElementStatusWithRange(false, 0x3000, 1)))).to.equal('GOOD');
    await t.stop();
  });

  it('POSITION TO ELEMENT: GOOD for an element of the library, INVALID ELEMENT ADDRESS otherwise', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    for (const a of [SLOT(6), MAIL(0), DRIVE(1)]) expect(kcq(await s.execute(0, cdb.positionToElement(a)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.positionToElement(SLOT(7))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    expect(kcq(await s.execute(0, cdb.positionToElement(SLOT(1), SLOT(2))))).to.deep.equal(INVALID_ELEMENT_ADDRESS);
    await t.stop();
  });

  it('EXCHANGE MEDIUM is not claimed (device capabilities page): INVALID COMMAND OPERATION CODE; so are block commands', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.exchangeMedium()))).to.deep.equal(INVALID_OPCODE);
    expect(kcq(await s.execute(0, [0xb5, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0]))).to.deep.equal(INVALID_OPCODE);
    expect(kcq(await s.execute(0, cdb.read10(0, 1)))).to.deep.equal(INVALID_OPCODE);
    await t.stop();
  });

  it('byte 1 bits 7..5 (the SCSI-2 LUN field mtx fills in) are ignored by the SMC-3 commands', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const lun4 = (c: number[]) => { c[1] |= 4 << 5; return c; };
    expect(kcq(await s.execute(0, lun4(cdb.readElementStatus(2, 0, 6, { volTag: true }))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, lun4(cdb.moveMedium(SLOT(1), DRIVE(0)))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, lun4(cdb.initializeElementStatus())))).to.equal('GOOD');
    expect(kcq(await s.execute(0, lun4(cdb.positionToElement(SLOT(2)))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, lun4(cdb.prevent(false))))).to.equal('GOOD');
    await t.stop();
  });

  it('REPORT SUPPORTED OPERATION CODES lists the SMC-3 rows', async () => {
    const t = await start(library(workDir()));
    const s = await session(t);
    const r = await s.execute(0, [0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]);
    expect(kcq(r)).to.equal('GOOD');
    const ops = new Set<number>();
    for (let p = 4; p < r.data.length; p += 8 + ((r.data[p + 5] & 0x02) ? 12 : 0)) ops.add(r.data[p]);
    for (const op of [0x07, 0xe7, 0xa5, 0x2b, 0x1e, 0xb8, 0x12, 0x00]) expect(ops.has(op), op.toString(16)).to.equal(true);
    expect(ops.has(0xa6)).to.equal(false);
    await t.stop();
  });
});
