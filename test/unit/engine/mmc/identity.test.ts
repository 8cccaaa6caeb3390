import { expect } from 'chai';
import { BLOCK, be16, cdb, image, kcq, session, start } from './fixture';

/** What a drive says of itself: INQUIRY, READ CAPACITY, mode pages, RSOC and the write commands it lacks. */

describe('engine/mmc CD/DVD-ROM identity and capacity', () => {
  it('INQUIRY (SPC-4 6.6.2): peripheral device type 05h, RMB 1, version descriptors SAM-5, iSCSI, SPC-4, MMC-6', async () => {
    const t = await start(image(64));
    const s = await session(t);
    const r = await s.execute(0, cdb.inquiry(96));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data[0]).to.equal(0x05); // PERIPHERAL QUALIFIER 000b | DEVICE TYPE 05h
    expect(r.data[1]).to.equal(0x80); // RMB
    expect([...r.data.subarray(58, 68)]).to.deep.equal([0x00, 0xa0, 0x09, 0x60, 0x04, 0x60, 0x04, 0xe0, 0, 0]);
    // VPD 00h: the SPC-4 pages, with the CD-ROM's device type in byte 0
    const v = await s.execute(0, cdb.inquiry(64, true, 0x00));
    expect(v.data[0]).to.equal(0x05);
    expect([...v.data.subarray(4)]).to.include.members([0x00, 0x80, 0x83]);
    expect([...v.data.subarray(4)]).to.not.include(0xb0); // no block limits: not a block device
    await t.stop();
  });

  it('READ CAPACITY (MMC-6): last LBA and 2048-byte blocks; obsolete RelAdr/PMI bits are refused', async () => {
    const t = await start(image(300));
    const s = await session(t);
    const r = await s.execute(0, cdb.readCapacity());
    expect([...r.data]).to.deep.equal([0, 0, 0x01, 0x2b, 0, 0, 0x08, 0x00]); // 299, 2048
    const pmi = await s.execute(0, [0x25, 0, 0, 0, 0, 0, 0, 0, 0x01, 0]);
    expect(kcq(pmi)).to.deep.equal([0x05, 0x24, 0x00]);
    await t.stop();
  });

  it('writes are not MMC commands of a read-only drive: INVALID COMMAND OPERATION CODE (20h/00h)', async () => {
    const t = await start(image(64));
    const s = await session(t);
    const data = Buffer.alloc(BLOCK);
    expect(kcq(await s.execute(0, cdb.write10(0, 1), { dataOut: data }))).to.deep.equal([0x05, 0x20, 0x00]);
    expect(kcq(await s.execute(0, [0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], { dataOut: data }))).to.deep.equal([0x05, 0x20, 0x00]); // WRITE(12)
    expect(kcq(await s.execute(0, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).to.deep.equal([0x05, 0x20, 0x00]); // SYNCHRONIZE CACHE
    expect(kcq(await s.execute(0, [0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0], { dataOut: Buffer.alloc(24) }))).to.deep.equal([0x05, 0x20, 0x00]); // UNMAP
    await t.stop();
  });

  it('MODE SENSE(10) page 2Ah, byte by byte; LOCK STATE follows PREVENT ALLOW MEDIUM REMOVAL', async () => {
    const t = await start(image(64));
    const s = await session(t);
    const r = await s.execute(0, cdb.modeSense10(0x2a));
    expect(kcq(r)).to.equal('GOOD');
    const page = [
      0x2a, 0x1e, // PAGE CODE, PAGE LENGTH 30
      0x0b, // DVD-ROM READ, CD-RW READ, CD-R READ
      0x00, // no writing
      0x40, // MULTI SESSION
      0x00,
      0x29, // LOADING MECHANISM TYPE 001b (tray) | EJECT | LOCK
      0x00,
      ...be16(4224), // MAXIMUM READ SPEED: 24x of 176 kB/s
      0, 0, 0, 0, // volume levels, buffer size
      ...be16(4224), // CURRENT READ SPEED
      ...new Array(16).fill(0),
    ];
    // mode parameter header(10): MODE DATA LENGTH 6 + 32, MEDIUM TYPE 0, DEVICE-SPECIFIC 0, no block descriptors
    expect([...r.data]).to.deep.equal([0, 38, 0, 0, 0, 0, 0, 0, ...page]);
    expect(kcq(await s.execute(0, cdb.prevent(true)))).to.equal('GOOD');
    const locked = await s.execute(0, cdb.modeSense6(0x2a));
    expect(locked.data.subarray(0, 4).toString('hex')).to.equal('23000000'); // MODE DATA LENGTH 35, no descriptors
    expect(locked.data[4 + 6]).to.equal(0x2b); // LOCK STATE set
    await s.execute(0, cdb.prevent(false));
    expect((await s.execute(0, cdb.modeSense6(0x2a))).data[4 + 6]).to.equal(0x29);
    await t.stop();
  });

  it('REPORT SUPPORTED OPERATION CODES lists the MMC-6 rows and no disk-only row', async () => {
    const t = await start(image(64));
    const s = await session(t);
    const r = await s.execute(0, [0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]);
    expect(kcq(r)).to.equal('GOOD');
    const ops = new Set<number>();
    for (let i = 4; i + 8 <= 4 + r.data.readUInt32BE(0); i += 8) ops.add(r.data[i]);
    for (const op of [0x00, 0x03, 0x12, 0x1a, 0x5a, 0x1b, 0x1e, 0x25, 0x28, 0xa8, 0x43, 0x46, 0x4a, 0x51, 0x52, 0xbd, 0xbb, 0xac]) {
      expect(ops.has(op), `opcode ${op.toString(16)}`).to.equal(true);
    }
    for (const op of [0x2a, 0xaa, 0x8a, 0x35, 0x42, 0x88, 0x9e]) expect(ops.has(op), `opcode ${op.toString(16)}`).to.equal(false);
    await t.stop();
  });
});
