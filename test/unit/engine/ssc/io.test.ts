import { expect } from 'chai';
import {
  block, cartridge, cdb, EARLY_WARNING, EOD, FILEMARK, INVALID_FIELD_IN_CDB, kcq, MiB, NO_SENSE, position, session,
  setBlockLength, start, stream, VOLUME_OVERFLOW, WRITE_PROTECTED,
} from './fixture';

/**
 * READ(6), WRITE(6) and WRITE FILEMARKS(6) (SSC-4 4.2, 6.x): variable and fixed-block mode,
 * incorrect length (ILI, INFORMATION = requested minus actual), filemarks, end-of-data, early
 * warning and the end of the partition, write protection.
 */

describe('engine/ssc READ(6) and WRITE(6)', () => {
  it('variable mode: a block reads back as written; the position counts objects', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.write6(300), { dataOut: block(300, 0xa1) }))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.write6(10), { dataOut: block(10, 0xa2) }))).to.equal('GOOD');
    expect(await position(s)).to.equal(2);
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(300));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.equals(block(300, 0xa1))).to.equal(true);
    expect(await position(s)).to.equal(1);
    await t.stop();
  });

  it('SSC-4: an underlength block without SILI: NO SENSE, ILI, INFORMATION = requested - actual, the data, position after it', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 1) });
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(512));
    expect(kcq(r)).to.deep.equal(NO_SENSE);
    expect(stream(r)).to.deep.equal({ filemark: false, eom: false, ili: true, info: 412 });
    expect(r.data.length).to.equal(100);
    expect(r.residual).to.equal(412);
    expect(await position(s)).to.equal(1);
    await t.stop();
  });

  it('SSC-4: an underlength block with SILI is GOOD with a residual', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 1) });
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(512, false, true));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.length).to.equal(100);
    expect(r.residual).to.equal(412);
    await t.stop();
  });

  it('SSC-4: an overlength block: ILI with a negative INFORMATION, the requested bytes; SILI excuses it in variable mode only', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 7) });
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 8) });
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(60));
    expect(kcq(r)).to.deep.equal(NO_SENSE);
    expect(stream(r)).to.deep.equal({ filemark: false, eom: false, ili: true, info: -40 });
    expect(r.data.equals(block(60, 7))).to.equal(true);
    expect(await position(s)).to.equal(1);
    const q = await s.execute(0, cdb.read6(60, false, true));
    expect(kcq(q)).to.equal('GOOD');
    expect(q.data.equals(block(60, 8))).to.equal(true);
    await t.stop();
  });

  it('SSC-4: reading a filemark: NO SENSE, FILEMARK, 00h/01h, INFORMATION = requested length, position after it', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(10), { dataOut: block(10, 1) });
    expect(kcq(await s.execute(0, cdb.writeFilemarks6(1)))).to.equal('GOOD');
    await s.execute(0, cdb.write6(10), { dataOut: block(10, 2) });
    await s.execute(0, cdb.rewind());
    await s.execute(0, cdb.read6(10));
    const r = await s.execute(0, cdb.read6(10));
    expect(kcq(r)).to.deep.equal(FILEMARK);
    expect(stream(r)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 10 });
    expect(r.data.length).to.equal(0);
    expect(await position(s)).to.equal(2);
    expect((await s.execute(0, cdb.read6(10))).data[0]).to.equal(2);
    await t.stop();
  });

  it('SSC-4 4.2.9: reading at end-of-data: BLANK CHECK, END-OF-DATA DETECTED (00h/05h), position unchanged', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(10), { dataOut: block(10, 1) });
    const r = await s.execute(0, cdb.read6(10));
    expect(kcq(r)).to.deep.equal(EOD);
    expect(stream(r)).to.deep.equal({ filemark: false, eom: false, ili: false, info: 10 });
    expect(await position(s)).to.equal(1);
    await t.stop();
  });

  it('a TRANSFER LENGTH of 0 moves nothing: GOOD, same position', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.read6(0)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.write6(0)))).to.equal('GOOD');
    expect(await position(s)).to.equal(0);
    await t.stop();
  });

  it('FIXED with variable-block mode, and FIXED with SILI, are INVALID FIELD IN CDB at the bit', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const a = await s.execute(0, cdb.read6(1, true));
    expect(kcq(a)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect([a.sense![15] & 0xcf, a.sense![17]]).to.deep.equal([0xc8, 1]); // SKSV C/D BPV bit 0, byte 1
    await setBlockLength(s, 512);
    const b = await s.execute(0, cdb.read6(1, true, true));
    expect(kcq(b)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(b.sense![15] & 0x07).to.equal(1);
    await t.stop();
  });

  it('fixed mode: n blocks are n objects; a read stops at a filemark with INFORMATION = blocks not read', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await setBlockLength(s, 512);
    const data = Buffer.concat([block(512, 1), block(512, 2), block(512, 3)]);
    expect(kcq(await s.execute(0, cdb.write6(3, true), { dataOut: data }))).to.equal('GOOD');
    await s.execute(0, cdb.writeFilemarks6(1));
    expect(await position(s)).to.equal(4);
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(5, true));
    expect(kcq(r)).to.deep.equal(FILEMARK);
    expect(stream(r)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 2 });
    expect(r.data.equals(data)).to.equal(true);
    expect(r.residual).to.equal(2 * 512);
    expect(await position(s)).to.equal(4);
    const e = await s.execute(0, cdb.read6(2, true));
    expect(kcq(e)).to.deep.equal(EOD);
    expect(stream(e).info).to.equal(2);
    await t.stop();
  });

  it('fixed mode: a block of another length: ILI, INFORMATION = blocks not read, position after it', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await s.execute(0, cdb.write6(512), { dataOut: block(512, 1) });
    await s.execute(0, cdb.write6(100), { dataOut: block(100, 2) });
    await setBlockLength(s, 512);
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(3, true));
    expect(kcq(r)).to.deep.equal(NO_SENSE);
    expect(stream(r)).to.deep.equal({ filemark: false, eom: false, ili: true, info: 2 });
    expect(r.data.equals(block(512, 1))).to.equal(true);
    expect(await position(s)).to.equal(2);
    await t.stop();
  });

  it('SSC-4 4.2.9: a write before end-of-data makes it the new end-of-data', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    for (let i = 1; i <= 3; i++) await s.execute(0, cdb.write6(10), { dataOut: block(10, i) });
    await s.execute(0, cdb.rewind());
    await s.execute(0, cdb.read6(10));
    await s.execute(0, cdb.write6(5), { dataOut: block(5, 9) });
    expect(await position(s)).to.equal(2);
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(EOD);
    await s.execute(0, cdb.rewind());
    await s.execute(0, cdb.read6(10));
    const r = await s.execute(0, cdb.read6(5));
    expect(r.data.equals(block(5, 9))).to.equal(true);
    await t.stop();
  });

  it('SSC-4 4.2.5: writes in the early-warning zone complete with NO SENSE, EOM, 00h/02h; past the end VOLUME OVERFLOW', async () => {
    const t = await start(await cartridge({ capacityBytes: MiB, earlyWarningBytes: 200 * 1024 }));
    const s = await session(t);
    const big = block(256 * 1024, 5);
    for (let i = 0; i < 3; i++) expect(kcq(await s.execute(0, cdb.write6(big.length), { dataOut: big }))).to.equal('GOOD');
    const w = await s.execute(0, cdb.write6(100 * 1024), { dataOut: block(100 * 1024, 6) });
    expect(kcq(w)).to.deep.equal(EARLY_WARNING);
    expect(stream(w)).to.deep.equal({ filemark: false, eom: true, ili: false, info: 0 });
    const rs = await s.execute(0, cdb.requestSense());
    expect(rs.data[2]).to.equal(0x40); // EOM | NO SENSE
    // READ POSITION: BPEW at end-of-data in the zone, not at BOP
    expect((await s.execute(0, cdb.readPosition(0))).data[0]).to.equal(0x01);
    await s.execute(0, cdb.rewind());
    expect((await s.execute(0, cdb.readPosition(0))).data[0]).to.equal(0x80);
    await s.execute(0, cdb.space6(0b011, 0));
    const o = await s.execute(0, cdb.write6(big.length), { dataOut: big });
    expect(kcq(o)).to.deep.equal(VOLUME_OVERFLOW);
    expect(stream(o)).to.deep.equal({ filemark: false, eom: true, ili: false, info: big.length });
    expect(await position(s)).to.equal(4);
    await t.stop();
  });

  it('fixed mode at the end of the partition: the blocks that fit are written, INFORMATION the rest', async () => {
    const t = await start(await cartridge({ capacityBytes: MiB, earlyWarningBytes: 64 * 1024 }));
    const s = await session(t);
    await setBlockLength(s, 64 * 1024);
    const r = await s.execute(0, cdb.write6(20, true), { dataOut: block(20 * 64 * 1024, 1) });
    expect(kcq(r)).to.deep.equal(VOLUME_OVERFLOW);
    expect(stream(r).info).to.equal(20 - 15); // 15 blocks of 64 KiB + 32-byte headers fit in 1 MiB
    expect(await position(s)).to.equal(15);
    await t.stop();
  });

  it('a write-protected cartridge refuses WRITE, WRITE FILEMARKS and ERASE: DATA PROTECT, WRITE PROTECTED', async () => {
    const t = await start(await cartridge({ writeProtected: true }));
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.write6(10), { dataOut: block(10, 1) }))).to.deep.equal(WRITE_PROTECTED);
    expect(kcq(await s.execute(0, cdb.writeFilemarks6(1)))).to.deep.equal(WRITE_PROTECTED);
    expect(kcq(await s.execute(0, cdb.erase6(true)))).to.deep.equal(WRITE_PROTECTED);
    expect(kcq(await s.execute(0, cdb.read6(10)))).to.deep.equal(EOD);
    await t.stop();
  });

  it('a read-only LUN mapping refuses writes the same way', async () => {
    const t = await start(await cartridge(), true);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.write6(10), { dataOut: block(10, 1) }))).to.deep.equal(WRITE_PROTECTED);
    await t.stop();
  });

  it('WRITE FILEMARKS(6) with a count of 0 writes nothing (a flush); WSMK is not claimed', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.writeFilemarks6(0)))).to.equal('GOOD');
    expect(await position(s)).to.equal(0);
    expect(kcq(await s.execute(0, [0x10, 0x02, 0, 0, 1, 0]))).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(kcq(await s.execute(0, cdb.writeFilemarks6(3, true)))).to.equal('GOOD');
    expect(await position(s)).to.equal(3);
    await t.stop();
  });

  it('descriptor-format sense carries the stream commands descriptor (04h) and the INFORMATION descriptor', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    // SPC-4 7.5.8: D_SENSE in the control mode page
    const list = [0, 0, 0x10, 0, 0x0a, 0x0a, 0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(kcq(await s.execute(0, cdb.modeSelect6(list.length), { dataOut: Buffer.from(list) }))).to.equal('GOOD');
    await s.execute(0, cdb.writeFilemarks6(1));
    await s.execute(0, cdb.rewind());
    const r = await s.execute(0, cdb.read6(10));
    const sense = r.sense!;
    expect([sense[0], sense[1], sense[2], sense[3]]).to.deep.equal([0x72, 0x00, 0x00, 0x01]);
    const body = sense.subarray(8, 8 + sense[7]);
    expect([...body.subarray(0, 4)]).to.deep.equal([0x00, 0x0a, 0x80, 0x00]);
    expect(body.readBigUInt64BE(4)).to.equal(10n);
    expect([...body.subarray(12, 16)]).to.deep.equal([0x04, 0x02, 0x00, 0x80]);
    await t.stop();
  });
});
