import { expect } from 'chai';
import { LocalSession } from '../../../../src/transports/local/session';
import { block, BOP, cartridge, cdb, EOD, FILEMARK, INVALID_FIELD_IN_CDB, kcq, position, session, start, stream } from './fixture';

/**
 * SPACE(6), LOCATE(10), REWIND and READ POSITION (SSC-4): positions are logical object numbers;
 * spacing stops at filemarks, end-of-data and beginning of partition with the sense SSC-4 gives.
 */

/** Two files on tape: A0 A1 FM B0 B1 B2 FM C0 (objects 0..7), end-of-data at 8. */
async function twoFiles(s: LocalSession): Promise<void> {
  for (const b of [0xa0, 0xa1]) await s.execute(0, cdb.write6(8), { dataOut: block(8, b) });
  await s.execute(0, cdb.writeFilemarks6(1));
  for (const b of [0xb0, 0xb1, 0xb2]) await s.execute(0, cdb.write6(8), { dataOut: block(8, b) });
  await s.execute(0, cdb.writeFilemarks6(1));
  await s.execute(0, cdb.write6(8), { dataOut: block(8, 0xc0) });
  await s.execute(0, cdb.rewind());
}

async function readByte(s: LocalSession): Promise<number> { return (await s.execute(0, cdb.read6(8))).data[0]; }

const BLOCKS = 0b000, FILEMARKS = 0b001, END_OF_DATA = 0b011;

describe('engine/ssc positioning', () => {
  it('SPACE filemarks forward: after the nth filemark (mt fsf)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    expect(kcq(await s.execute(0, cdb.space6(FILEMARKS, 1)))).to.equal('GOOD');
    expect(await position(s)).to.equal(3);
    expect(await readByte(s)).to.equal(0xb0);
    await s.execute(0, cdb.rewind());
    expect(kcq(await s.execute(0, cdb.space6(FILEMARKS, 2)))).to.equal('GOOD');
    expect(await readByte(s)).to.equal(0xc0);
    await t.stop();
  });

  it('SPACE filemarks forward past the last: BLANK CHECK, END-OF-DATA, INFORMATION the filemarks not spaced, at EOD', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    const r = await s.execute(0, cdb.space6(FILEMARKS, 5));
    expect(kcq(r)).to.deep.equal(EOD);
    expect(stream(r).info).to.equal(3);
    expect(await position(s)).to.equal(8);
    await t.stop();
  });

  it('SPACE filemarks backward: on the BOP side of the filemark (mt bsf); past BOP: NO SENSE, EOM, 00h/04h', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.space6(END_OF_DATA, 0));
    expect(kcq(await s.execute(0, cdb.space6(FILEMARKS, -1)))).to.equal('GOOD');
    expect(await position(s)).to.equal(6);
    expect(kcq(await s.execute(0, cdb.space6(FILEMARKS, -1)))).to.equal('GOOD');
    expect(await position(s)).to.equal(2);
    const r = await s.execute(0, cdb.space6(FILEMARKS, -2));
    expect(kcq(r)).to.deep.equal(BOP);
    expect(stream(r)).to.deep.equal({ filemark: false, eom: true, ili: false, info: 2 });
    expect(await position(s)).to.equal(0);
    await t.stop();
  });

  it('SPACE blocks forward across a filemark: NO SENSE, FILEMARK, INFORMATION the blocks not spaced, after the filemark', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    expect(kcq(await s.execute(0, cdb.space6(BLOCKS, 1)))).to.equal('GOOD');
    expect(await position(s)).to.equal(1);
    const r = await s.execute(0, cdb.space6(BLOCKS, 4));
    expect(kcq(r)).to.deep.equal(FILEMARK);
    expect(stream(r)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 3 });
    expect(await position(s)).to.equal(3);
    await t.stop();
  });

  it('SPACE blocks to end-of-data: BLANK CHECK with the blocks not spaced', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.space6(FILEMARKS, 2));
    const r = await s.execute(0, cdb.space6(BLOCKS, 3));
    expect(kcq(r)).to.deep.equal(EOD);
    expect(stream(r).info).to.equal(2);
    expect(await position(s)).to.equal(8);
    await t.stop();
  });

  it('SPACE blocks backward: stops on the BOP side of a filemark, and at BOP with EOM', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.space6(FILEMARKS, 1));
    await s.execute(0, cdb.space6(BLOCKS, 2)); // at B2 (5)
    expect(kcq(await s.execute(0, cdb.space6(BLOCKS, -1)))).to.equal('GOOD');
    expect(await position(s)).to.equal(4);
    const r = await s.execute(0, cdb.space6(BLOCKS, -3));
    expect(kcq(r)).to.deep.equal(FILEMARK);
    expect(stream(r)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 2 });
    expect(await position(s)).to.equal(2);
    // Before the filemark, spacing back meets A1, A0, then beginning of partition.
    const b = await s.execute(0, cdb.space6(BLOCKS, -5));
    expect(kcq(b)).to.deep.equal(BOP);
    expect(stream(b)).to.deep.equal({ filemark: false, eom: true, ili: false, info: 3 });
    expect(await position(s)).to.equal(0);
    await t.stop();
  });

  it('SPACE to end-of-data (mt eod) ignores the count; a count of 0 does not move; setmarks are not claimed', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    expect(kcq(await s.execute(0, cdb.space6(END_OF_DATA, 0)))).to.equal('GOOD');
    expect(await position(s)).to.equal(8);
    expect(kcq(await s.execute(0, cdb.space6(BLOCKS, 0)))).to.equal('GOOD');
    expect(await position(s)).to.equal(8);
    expect(kcq(await s.execute(0, cdb.space6(0b100, 1)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(kcq(await s.execute(0, cdb.space6(0b010, 1)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });

  it('LOCATE(10) goes to a logical object (BT as well); past end-of-data it stops there with BLANK CHECK', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    expect(kcq(await s.execute(0, cdb.locate10(4)))).to.equal('GOOD');
    expect(await readByte(s)).to.equal(0xb1);
    expect(kcq(await s.execute(0, cdb.locate10(7, true)))).to.equal('GOOD');
    expect(await readByte(s)).to.equal(0xc0);
    expect(kcq(await s.execute(0, cdb.locate10(8)))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.locate10(100)))).to.deep.equal(EOD);
    expect(await position(s)).to.equal(8);
    expect(kcq(await s.execute(0, cdb.locate10(0, false, true, 1)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(kcq(await s.execute(0, cdb.locate10(0, false, true, 0)))).to.equal('GOOD');
    await t.stop();
  });

  it('READ POSITION short form (00h and 01h): BOP bit, FIRST and LAST LOGICAL OBJECT LOCATION, empty buffer', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    for (const sa of [0x00, 0x01]) {
      const r = await s.execute(0, cdb.readPosition(sa));
      expect(r.data.length).to.equal(20);
      expect([...r.data]).to.deep.equal([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
    await s.execute(0, cdb.locate10(5));
    const r = await s.execute(0, cdb.readPosition(0));
    expect(r.data[0]).to.equal(0x00);
    expect([r.data.readUInt32BE(4), r.data.readUInt32BE(8)]).to.deep.equal([5, 5]);
    await t.stop();
  });

  it('READ POSITION long form (06h): LOGICAL OBJECT NUMBER and LOGICAL FILE IDENTIFIER', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.locate10(7));
    const r = await s.execute(0, cdb.readPosition(0x06));
    expect(r.data.length).to.equal(32);
    expect(r.data[0]).to.equal(0);
    expect(r.data.readUInt32BE(4)).to.equal(0);
    expect(r.data.readBigUInt64BE(8)).to.equal(7n);
    expect(r.data.readBigUInt64BE(16)).to.equal(2n);
    await t.stop();
  });

  it('READ POSITION extended form (08h): ADDITIONAL LENGTH 1Ch, locations as 64 bits, trimmed to ALLOCATION LENGTH', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.locate10(3));
    const r = await s.execute(0, cdb.readPosition(0x08, 32));
    expect(r.data.length).to.equal(32);
    expect(r.data.readUInt16BE(2)).to.equal(0x1c);
    expect(r.data.readBigUInt64BE(8)).to.equal(3n);
    expect(r.data.readBigUInt64BE(16)).to.equal(3n);
    const short = await s.execute(0, cdb.readPosition(0x08, 8));
    expect(short.data.length).to.equal(8);
    expect(kcq(await s.execute(0, cdb.readPosition(0x00, 20)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(kcq(await s.execute(0, cdb.readPosition(0x07)))).to.deep.equal(INVALID_FIELD_IN_CDB);
    await t.stop();
  });

  it('REWIND returns to beginning of partition (BOP set)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    await twoFiles(s);
    await s.execute(0, cdb.space6(END_OF_DATA, 0));
    expect(kcq(await s.execute(0, cdb.rewind(true)))).to.equal('GOOD');
    expect((await s.execute(0, cdb.readPosition(0))).data[0] & 0x80).to.equal(0x80);
    await t.stop();
  });
});
