import { expect } from 'chai';
import { LocalSession } from '../../../../src/transports/local/session';
import {
  block, BOP, cartridge, cdb, EOD, FILEMARK, INVALID_FIELD_IN_CDB, kcq, NO_SENSE, position, session, setBlockLength, start,
  stream, WRITE_PROTECTED,
} from './fixture';

/**
 * The 16-byte commands of SSC-4: READ(16), WRITE(16) and WRITE FILEMARKS(16) start at the
 * PARTITION and LOGICAL OBJECT IDENTIFIER they name (a locate first when the drive is elsewhere),
 * SPACE(16) with its 64-bit COUNT, LOCATE(16) to a logical object, a logical file or end-of-data;
 * and their rows in REPORT SUPPORTED OPERATION CODES.
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

/** The sense-key-specific bytes 15..17 of fixed-format sense (SKSV, C/D, BPV, BIT POINTER, FIELD POINTER). */
function pointer(sense: Buffer): number[] { return [sense[15], sense[16], sense[17]]; }

/** READ POSITION long form: [LOGICAL OBJECT NUMBER, LOGICAL FILE IDENTIFIER]. */
async function longPosition(s: LocalSession): Promise<[number, number]> {
  const r = await s.execute(0, cdb.readPosition(0x06));
  expect(kcq(r)).to.equal('GOOD');
  return [Number(r.data.readBigUInt64BE(8)), Number(r.data.readBigUInt64BE(16))];
}

const BLOCKS = 0b000, FILEMARKS = 0b001, END_OF_DATA = 0b011;
const OBJECT = 0b000, FILE = 0b001, EOD_DEST = 0b011;

describe('engine/ssc 16-byte commands', () => {
  describe('READ(16) and WRITE(16)', () => {
    it('READ(16) at the position reads there; at another object it locates first, the position then after the block', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      const a = await s.execute(0, cdb.read16(0, 8));
      expect(kcq(a)).to.equal('GOOD');
      expect(a.data.equals(block(8, 0xa0))).to.equal(true);
      const b = await s.execute(0, cdb.read16(4, 8));
      expect(kcq(b)).to.equal('GOOD');
      expect(b.data.equals(block(8, 0xb1))).to.equal(true);
      expect(await position(s)).to.equal(5);
      // Backward too: object 1 from 5.
      const c = await s.execute(0, cdb.read16(1, 8));
      expect(c.data.equals(block(8, 0xa1))).to.equal(true);
      expect(await position(s)).to.equal(2);
      await t.stop();
    });

    it('READ(16) keeps READ(6)\'s rules: a filemark read, ILI with INFORMATION, SILI, end-of-data', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      const fm = await s.execute(0, cdb.read16(2, 8));
      expect(kcq(fm)).to.deep.equal(FILEMARK);
      expect(stream(fm)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 8 });
      expect(await position(s)).to.equal(3);
      const under = await s.execute(0, cdb.read16(3, 20));
      expect(kcq(under)).to.deep.equal(NO_SENSE);
      expect(stream(under)).to.deep.equal({ filemark: false, eom: false, ili: true, info: 12 });
      expect(under.data.equals(block(8, 0xb0))).to.equal(true);
      expect(under.residual).to.equal(12);
      expect(kcq(await s.execute(0, cdb.read16(4, 20, false, true)))).to.equal('GOOD');
      const eod = await s.execute(0, cdb.read16(8, 8));
      expect(kcq(eod)).to.deep.equal(EOD);
      expect(stream(eod).info).to.equal(8);
      expect(await position(s)).to.equal(8);
      await t.stop();
    });

    it('READ(16) in fixed-block mode: TRANSFER LENGTH counts blocks; FIXED with SILI is refused at SILI', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await setBlockLength(s, 512);
      expect(kcq(await s.execute(0, cdb.write16(0, 3, true), { dataOut: Buffer.concat([block(512, 1), block(512, 2), block(512, 3)]) }))).to.equal('GOOD');
      expect(await position(s)).to.equal(3);
      const r = await s.execute(0, cdb.read16(1, 2, true));
      expect(kcq(r)).to.equal('GOOD');
      expect(r.data.equals(Buffer.concat([block(512, 2), block(512, 3)]))).to.equal(true);
      const bad = await s.execute(0, cdb.read16(0, 1, true, true));
      expect(kcq(bad)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(bad.sense!)).to.deep.equal([0xc8 | 1, 0, 1]); // SKSV | C/D | BPV, bit 1 of byte 1
      await t.stop();
    });

    it('WRITE(16) before end-of-data locates there and makes it end-of-data (SSC-4 4.2.9)', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.write16(3, 8), { dataOut: block(8, 0xee) }))).to.equal('GOOD');
      expect(await position(s)).to.equal(4);
      expect(kcq(await s.execute(0, cdb.space6(END_OF_DATA, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(4);
      const r = await s.execute(0, cdb.read16(3, 8));
      expect(r.data.equals(block(8, 0xee))).to.equal(true);
      await t.stop();
    });

    it('WRITE(16) at end-of-data appends; past it: BLANK CHECK, END-OF-DATA DETECTED, nothing written, the drive at end-of-data', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.write16(8, 8), { dataOut: block(8, 0xc1) }))).to.equal('GOOD');
      expect(await position(s)).to.equal(9);
      await s.execute(0, cdb.rewind());
      const r = await s.execute(0, cdb.write16(11, 8), { dataOut: block(8, 0xc2) });
      expect(kcq(r)).to.deep.equal(EOD);
      expect(await position(s)).to.equal(9);
      expect(kcq(await s.execute(0, cdb.read16(9, 8)))).to.deep.equal(EOD);
      await t.stop();
    });

    it('another PARTITION is refused (one partition): INVALID FIELD IN CDB at byte 3, the drive does not move', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      for (const c of [cdb.read16(0, 8, false, false, 1), cdb.write16(0, 8, false, 1)]) {
        const r = await s.execute(0, c, { dataOut: c[0] === 0x8a ? block(8, 0) : undefined });
        expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
        expect(pointer(r.sense!)).to.deep.equal([0xc0, 0, 3]); // SKSV | C/D, byte 3
      }
      expect(await position(s)).to.equal(0);
      await t.stop();
    });

    it('a TRANSFER LENGTH of zero moves nothing and does not locate', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.read16(5, 0)))).to.equal('GOOD');
      expect(kcq(await s.execute(0, cdb.write16(5, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(0);
      await t.stop();
    });

    it('FCS and LCS (byte 1 bits 3, 2) are not claimed: INVALID FIELD IN CDB at the bit', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      const c = cdb.read16(0, 8);
      c[1] |= 0x08;
      const r = await s.execute(0, c);
      expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(r.sense!)).to.deep.equal([0xc8 | 3, 0, 1]);
      await t.stop();
    });

    it('a write-protected cartridge refuses WRITE(16) and WRITE FILEMARKS(16)', async () => {
      const t = await start(await cartridge({ writeProtected: true }));
      const s = await session(t);
      expect(kcq(await s.execute(0, cdb.write16(0, 8), { dataOut: block(8, 1) }))).to.deep.equal(WRITE_PROTECTED);
      expect(kcq(await s.execute(0, cdb.writeFilemarks16(0, 1)))).to.deep.equal(WRITE_PROTECTED);
      await t.stop();
    });
  });

  describe('WRITE FILEMARKS(16)', () => {
    it('writes filemarks at the named object (cutting what follows); a count of zero flushes where the drive is', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.writeFilemarks16(1, 2)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([3, 2]);
      expect(kcq(await s.execute(0, cdb.space6(END_OF_DATA, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(3);
      await s.execute(0, cdb.rewind());
      expect(kcq(await s.execute(0, cdb.writeFilemarks16(2, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(0);
      await t.stop();
    });
  });

  describe('SPACE(16)', () => {
    it('filemarks and blocks in either direction, as SPACE(6)', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.space16(FILEMARKS, 2)))).to.equal('GOOD');
      expect(await position(s)).to.equal(7);
      expect(kcq(await s.execute(0, cdb.space16(FILEMARKS, -1)))).to.equal('GOOD');
      expect(await position(s)).to.equal(6);
      expect(kcq(await s.execute(0, cdb.space16(BLOCKS, -2)))).to.equal('GOOD');
      expect(await position(s)).to.equal(4);
      const fm = await s.execute(0, cdb.space16(BLOCKS, -3));
      expect(kcq(fm)).to.deep.equal(FILEMARK);
      expect(stream(fm)).to.deep.equal({ filemark: true, eom: false, ili: false, info: 2 });
      expect(await position(s)).to.equal(2);
      const bop = await s.execute(0, cdb.space16(FILEMARKS, -3));
      expect(kcq(bop)).to.deep.equal(BOP);
      expect(stream(bop)).to.deep.equal({ filemark: false, eom: true, ili: false, info: 3 });
      expect(kcq(await s.execute(0, cdb.space16(END_OF_DATA, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(8);
      await t.stop();
    });

    it('a 64-bit COUNT: the residue beyond 32 bits is not VALID in fixed sense and whole in descriptor sense', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      await s.execute(0, cdb.space6(FILEMARKS, 2)); // at C0 (7)
      const count = 2n ** 40n + 5n;
      const fixed = await s.execute(0, cdb.space16(BLOCKS, count));
      expect(kcq(fixed)).to.deep.equal(EOD);
      expect(fixed.sense![0]).to.equal(0x70); // VALID 0: INFORMATION does not fit
      expect(await position(s)).to.equal(8);
      // D_SENSE one (control mode page 0Ah, byte 2 bit 2): the information descriptor has all 64 bits.
      const list = [0, 0, 0x10, 0, 0x0a, 0x0a, 0x06, 0x10, 0, 0, 0, 0, 0, 0, 0, 0];
      expect(kcq(await s.execute(0, cdb.modeSelect6(list.length), { dataOut: Buffer.from(list) }))).to.equal('GOOD');
      await s.execute(0, cdb.space6(BLOCKS, -1));
      const d = await s.execute(0, cdb.space16(BLOCKS, count));
      const sense = d.sense!;
      expect([sense[0], sense[1], sense[2], sense[3]]).to.deep.equal([0x72, 0x08, 0x00, 0x05]);
      expect([sense[8], sense[9], sense[10]]).to.deep.equal([0x00, 0x0a, 0x80]);
      expect(sense.readBigUInt64BE(12)).to.equal(count - 1n);
      const back = await s.execute(0, cdb.space16(BLOCKS, -(2n ** 60n)));
      expect(kcq(back)).to.deep.equal(FILEMARK);
      expect(back.sense!.readBigUInt64BE(12)).to.equal(2n ** 60n - 1n);
      await t.stop();
    });

    it('PARAMETER LENGTH (bytes 12..13) other than zero and setmarks are refused', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      const c = cdb.space16(BLOCKS, 1);
      c[13] = 4;
      const r = await s.execute(0, c);
      expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(r.sense!)).to.deep.equal([0xc8 | 2, 0, 13]);
      const sm = await s.execute(0, cdb.space16(0b100, 1));
      expect(kcq(sm)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(sm.sense!)).to.deep.equal([0xc8 | 3, 0, 1]);
      await t.stop();
    });
  });

  describe('LOCATE(16)', () => {
    it('to a logical object (BAM either way); past end-of-data: BLANK CHECK at end-of-data', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.locate16(OBJECT, 5)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([5, 1]);
      expect(kcq(await s.execute(0, cdb.locate16(OBJECT, 1, false, 0, true)))).to.equal('GOOD');
      expect(await position(s)).to.equal(1);
      expect(kcq(await s.execute(0, cdb.locate16(OBJECT, 2n ** 63n)))).to.deep.equal(EOD);
      expect(await position(s)).to.equal(8);
      await t.stop();
    });

    it('to a logical file: its first object, the LOGICAL FILE IDENTIFIER READ POSITION reports; past the last: end-of-data', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      await s.execute(0, cdb.space6(END_OF_DATA, 0));
      expect(kcq(await s.execute(0, cdb.locate16(FILE, 1)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([3, 1]);
      expect((await s.execute(0, cdb.read6(8))).data[0]).to.equal(0xb0);
      expect(kcq(await s.execute(0, cdb.locate16(FILE, 2)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([7, 2]);
      expect(kcq(await s.execute(0, cdb.locate16(FILE, 0)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([0, 0]);
      expect(kcq(await s.execute(0, cdb.locate16(FILE, 3)))).to.deep.equal(EOD);
      expect(await position(s)).to.equal(8);
      await t.stop();
    });

    it('to end-of-data, the identifier ignored', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      expect(kcq(await s.execute(0, cdb.locate16(EOD_DEST, 1234)))).to.equal('GOOD');
      expect(await longPosition(s)).to.deep.equal([8, 2]);
      await t.stop();
    });

    it('DEST_TYPE 010b (obsolete) is refused at byte 1 bit 5; CP with another partition at byte 3', async () => {
      const t = await start(await cartridge());
      const s = await session(t);
      await twoFiles(s);
      const obsolete = await s.execute(0, cdb.locate16(0b010, 0));
      expect(kcq(obsolete)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(obsolete.sense!)).to.deep.equal([0xc8 | 5, 0, 1]);
      const part = await s.execute(0, cdb.locate16(OBJECT, 0, true, 1));
      expect(kcq(part)).to.deep.equal(INVALID_FIELD_IN_CDB);
      expect(pointer(part.sense!)).to.deep.equal([0xc0, 0, 3]);
      expect(kcq(await s.execute(0, cdb.locate16(OBJECT, 3, true, 0)))).to.equal('GOOD');
      expect(await position(s)).to.equal(3);
      await t.stop();
    });
  });

  it('REPORT SUPPORTED OPERATION CODES gives each 16-byte row its usage data (SPC-4 6.35.3)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const one = (op: number) => s.execute(0, [0xa3, 0x0c, 0x01, op, 0, 0, 0, 0, 0, 0x40, 0, 0]);
    const expected: Record<number, number[]> = {
      0x88: [0x88, 0x03, 0x00, 0xff, ...Array(8).fill(0xff), 0xff, 0xff, 0xff, 0x00],
      0x8a: [0x8a, 0x01, 0x00, 0xff, ...Array(8).fill(0xff), 0xff, 0xff, 0xff, 0x00],
      0x80: [0x80, 0x01, 0x00, 0xff, ...Array(8).fill(0xff), 0xff, 0xff, 0xff, 0x00],
      0x91: [0x91, 0x0f, 0x00, 0x00, ...Array(8).fill(0xff), 0x00, 0x00, 0x00, 0x00],
      0x92: [0x92, 0x3b, 0x01, 0xff, ...Array(8).fill(0xff), 0x00, 0x00, 0x00, 0x00],
    };
    for (const [op, usage] of Object.entries(expected)) {
      const r = await one(Number(op));
      expect(kcq(r)).to.equal('GOOD');
      // byte 1 SUPPORT 011b (supported as the standard says), bytes 2..3 CDB SIZE 16, then the usage data
      expect([...r.data.subarray(0, 4 + 16)], op).to.deep.equal([0, 0x03, 0, 16, ...usage]);
    }
    await t.stop();
  });
});
