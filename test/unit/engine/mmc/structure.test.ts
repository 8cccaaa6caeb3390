import { expect } from 'chai';
import { be16, be32, CD_MAX_BLOCKS, fieldPointer, image, INVALID_FIELD_IN_CDB, kcq, session, sparseImage, start } from './fixture';

/**
 * READ DISC STRUCTURE (MMC-6) for DVD media, which the DVD Read feature (001Fh) requires: the
 * physical format information, the copyright information and the disc structure list, byte by
 * byte; a CD has no DVD structures.
 */

const readDiscStructure = (format: number, opts: { mediaType?: number; layer?: number; alloc?: number; agid?: number } = {}) =>
  [0xad, opts.mediaType ?? 0, 0, 0, 0, 0, opts.layer ?? 0, format, ...be16(opts.alloc ?? 0xfffe), (opts.agid ?? 0) << 6, 0];

const DVD_BLOCKS = CD_MAX_BLOCKS + 1000;
const INCOMPATIBLE_FORMAT: [number, number, number] = [0x05, 0x30, 0x02];

describe('engine/mmc READ DISC STRUCTURE', () => {
  it('format 00h of a DVD-ROM: one embossed layer of 120 mm, the data area from PSN 030000h over the whole image', async () => {
    const t = await start(sparseImage(DVD_BLOCKS));
    const s = await session(t);
    const r = await s.execute(0, readDiscStructure(0x00));
    expect(kcq(r)).to.equal('GOOD');
    expect(r.data.length).to.equal(4 + 2048);
    const expected = Buffer.alloc(4 + 2048);
    Buffer.from([
      0x08, 0x02, 0x00, 0x00, // DATA LENGTH 2050, reserved
      0x01, // BOOK TYPE DVD-ROM, PART VERSION 1
      0x0f, // DISC SIZE 120 mm, MAXIMUM RATE not specified
      0x01, // one layer, parallel track path, embossed
      0x00, // densities
      ...be32(0x030000), ...be32(0x030000 + DVD_BLOCKS - 1), ...be32(0), 0x00,
    ]).copy(expected);
    expect(r.data.equals(expected)).to.equal(true);
    await t.stop();
  });

  it('format 01h: no copy protection, no region excluded; FFh lists 00h, 01h and FFh with their lengths', async () => {
    const t = await start(sparseImage(DVD_BLOCKS));
    const s = await session(t);
    expect([...(await s.execute(0, readDiscStructure(0x01))).data]).to.deep.equal([0x00, 0x06, 0, 0, 0x00, 0x00, 0x00, 0x00]);
    expect([...(await s.execute(0, readDiscStructure(0xff))).data]).to.deep.equal([
      0x00, 0x0e, 0, 0,
      0x00, 0x40, ...be16(2052), // physical format information: RDS, 2052 bytes
      0x01, 0x40, ...be16(8), // copyright information
      0xff, 0x40, ...be16(16), // this list
    ]);
    // The allocation length truncates.
    expect((await s.execute(0, readDiscStructure(0x00, { alloc: 8 }))).data.length).to.equal(8);
    await t.stop();
  });

  it('another layer, another format, BD media type: INVALID FIELD IN CDB at its field; AGID is not claimed', async () => {
    const t = await start(sparseImage(DVD_BLOCKS));
    const s = await session(t);
    const layer = await s.execute(0, readDiscStructure(0x00, { layer: 1 }));
    expect(kcq(layer)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(fieldPointer(layer)).to.deep.equal({ byte: 6, bit: undefined });
    const format = await s.execute(0, readDiscStructure(0x02)); // disc key: CSS is not claimed
    expect(kcq(format)).to.deep.equal(INVALID_FIELD_IN_CDB);
    expect(fieldPointer(format)).to.deep.equal({ byte: 7, bit: undefined });
    const bd = await s.execute(0, readDiscStructure(0x00, { mediaType: 1 }));
    expect(fieldPointer(bd)).to.deep.equal({ byte: 1, bit: 3 });
    const agid = await s.execute(0, readDiscStructure(0x00, { agid: 1 }));
    expect(fieldPointer(agid)).to.deep.equal({ byte: 10, bit: 6 });
    await t.stop();
  });

  it('a CD has no DVD structures: ILLEGAL REQUEST, CANNOT READ MEDIUM - INCOMPATIBLE FORMAT; the list still answers', async () => {
    const t = await start(image(300));
    const s = await session(t);
    expect(kcq(await s.execute(0, readDiscStructure(0x00)))).to.deep.equal(INCOMPATIBLE_FORMAT);
    expect(kcq(await s.execute(0, readDiscStructure(0x01)))).to.deep.equal(INCOMPATIBLE_FORMAT);
    expect(kcq(await s.execute(0, readDiscStructure(0xff)))).to.equal('GOOD');
    await t.stop();
  });
});
