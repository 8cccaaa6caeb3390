import { expect } from 'chai';
import { ModePages, SBC_MODE_PAGES, SPC_MODE_PAGES } from '../../../../src/engine/mode-page-store';
import { SENSE } from '../../../../src/engine/spec/asc';
import { PeripheralType, Status } from '../../../../src/engine/spec/status';
import { dataOf, makeLu, run, senseOf } from './fixtures';

const hex = (s: string): string => s.replace(/\s+/g, '');

// The pages as SPC-4 / SBC-4 lay them out, written by hand (defaults of a write-back disk).
const RW_RECOVERY = '010a 00000000000000000000';
const CACHING_WCE = '0812 04' + '00'.repeat(17);
const CONTROL = '0a0a 02100000 000000000000';
const IEC = '1c0a 08000000 000000000000';

describe('engine/spc MODE SENSE (SPC-4 6.11, 6.12; SBC-4 6.5)', () => {
  it('MODE SENSE(6) all pages: header, short block descriptor, pages in ascending order', async () => {
    const d = dataOf(await run([0x1a, 0, 0x3f, 0, 0xff, 0]));
    expect(d.toString('hex')).to.equal(hex(
      '43 00 10 08' + // MODE DATA LENGTH 67, medium 0, DPOFUA, BLOCK DESCRIPTOR LENGTH 8
      '00000800 00 000200' + // 2048 blocks of 512 bytes
      RW_RECOVERY + CACHING_WCE + CONTROL + IEC));
  });

  it('MODE SENSE(10) with LLBAA returns the long block descriptor and LONGLBA', async () => {
    const d = dataOf(await run([0x5a, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0x00, 0]));
    expect(d.toString('hex')).to.equal(hex(
      '002a 00 10 01 00 0010' + // MODE DATA LENGTH 42, DPOFUA, LONGLBA, BLOCK DESCRIPTOR LENGTH 16
      '0000000000000800 00000000 00000200' + CACHING_WCE));
  });

  it('caps the short descriptor block count at FFFFFFFFh', async () => {
    const d = dataOf(await run([0x1a, 0, 0x0a, 0, 0xff, 0], { lu: makeLu({ blocks: 0x1_0000_0000n }) }));
    expect(d.subarray(4, 12).toString('hex')).to.equal('ffffffff00000200');
  });

  it('DBD leaves the block descriptor out', async () => {
    const d = dataOf(await run([0x1a, 0x08, 0x0a, 0, 0xff, 0]));
    expect(d.toString('hex')).to.equal(hex('0f 00 10 00' + CONTROL));
  });

  it('sets WP in the device-specific parameter for a read-only nexus', async () => {
    const d = dataOf(await run([0x1a, 0x08, 0x0a, 0, 0xff, 0], { readOnly: true }));
    expect(d[2]).to.equal(0x90);
  });

  it('PC 01b returns the changeable masks: WCE; D_SENSE and SWP', async () => {
    const d = dataOf(await run([0x1a, 0x08, 0x7f, 0, 0xff, 0]));
    expect(d.toString('hex')).to.equal(hex('3b 00 10 00' +
      '010a 00000000000000000000' + '0812 04' + '00'.repeat(17) + '0a0a 04000800 000000000000' +
      '1c0a 00000000 000000000000'));
  });

  it('PC 10b returns the defaults, even after a change', async () => {
    const lu = makeLu();
    await run([0x15, 0x10, 0, 0, 24, 0], { lu, dataOut: Buffer.from(hex('00000000' + '0812' + '00'.repeat(18)), 'hex') });
    const d = dataOf(await run([0x1a, 0x08, 0x88, 0, 0xff, 0], { lu }));
    expect(d.subarray(4).toString('hex')).to.equal(hex(CACHING_WCE));
  });

  it('PC 11b: SAVING PARAMETERS NOT SUPPORTED pointing at PC', async () => {
    const s = senseOf(await run([0x1a, 0, 0xc8, 0, 0xff, 0]));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x39, 0x00]);
    expect(s.sks).to.deep.equal([0xcf, 0x00, 0x02]);
  });

  it('an unsupported page is INVALID FIELD IN CDB at byte 2 bit 5', async () => {
    const s = senseOf(await run([0x1a, 0, 0x05, 0, 0xff, 0]));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x24, 0x00]);
    expect(s.sks).to.deep.equal([0xcd, 0x00, 0x02]);
  });

  it('subpage FFh returns the page; an unknown subpage is INVALID FIELD IN CDB at byte 3', async () => {
    const d = dataOf(await run([0x1a, 0x08, 0x08, 0xff, 0xff, 0]));
    expect(d.subarray(4).toString('hex')).to.equal(hex(CACHING_WCE));
    expect(senseOf(await run([0x1a, 0x08, 0x08, 0x01, 0xff, 0])).sks).to.deep.equal([0xc0, 0x00, 0x03]);
    expect(senseOf(await run([0x1a, 0x08, 0x3f, 0x02, 0xff, 0])).sks).to.deep.equal([0xc0, 0x00, 0x03]);
  });

  it('reserved CDB bits are refused by the table (MODE SENSE(6) byte 1 bit 4: LLBAA is (10) only)', async () => {
    expect(senseOf(await run([0x1a, 0x10, 0x3f, 0, 0xff, 0])).sks).to.deep.equal([0xcc, 0x00, 0x01]);
    expect(senseOf(await run([0x5a, 0, 0x3f, 0, 0x01, 0, 0, 0, 0xff, 0])).sks).to.deep.equal([0xc8, 0x00, 0x04]);
  });

  it('a CD-ROM has no disk pages and no block descriptor', async () => {
    const lu = makeLu({ type: PeripheralType.CDROM });
    const d = dataOf(await run([0x1a, 0, 0x3f, 0, 0xff, 0], { lu }));
    expect(d.toString('hex')).to.equal(hex('1b 00 00 00' + CONTROL + IEC));
    expect(senseOf(await run([0x1a, 0, 0x08, 0, 0xff, 0], { lu })).sks).to.deep.equal([0xcd, 0x00, 0x02]);
  });
});

describe('engine/spc MODE SELECT (SPC-4 6.9, 6.10)', () => {
  const select6 = (data: string, lu = makeLu()) => {
    const b = Buffer.from(hex(data), 'hex');
    return run([0x15, 0x10, 0, 0, b.length, 0], { lu, dataOut: b });
  };
  const select10 = (data: string, lu = makeLu()) => {
    const b = Buffer.from(hex(data), 'hex');
    return run([0x55, 0x10, 0, 0, 0, 0, 0, 0, b.length, 0], { lu, dataOut: b });
  };

  it('clearing WCE makes the backstore write through and raises MODE PARAMETERS CHANGED for the others', async () => {
    const lu = makeLu();
    const out = await select6('00000000' + '0812' + '00'.repeat(18), lu);
    expect(out.status).to.equal(Status.GOOD);
    expect(lu.backstore.writeBack).to.equal(false);
    expect(lu.modes.writeCacheEnabled).to.equal(false);
    expect(lu.raised).to.deep.equal([{ cond: SENSE.MODE_PARAMETERS_CHANGED, exceptNexus: 7 }]);
    const d = dataOf(await run([0x1a, 0x08, 0x08, 0, 0xff, 0], { lu }));
    expect(d.subarray(4).toString('hex')).to.equal(hex('0812' + '00'.repeat(18)));
    // and back on
    await select6('00000000' + CACHING_WCE, lu);
    expect(lu.backstore.writeBack).to.equal(true);
  });

  it('MODE SELECT(10) sets D_SENSE and SWP; MODE SENSE then shows WP', async () => {
    const lu = makeLu();
    const out = await select10('0000 0000 0000 0000' + '0a0a 06100800 000000000000', lu);
    expect(out.status).to.equal(Status.GOOD);
    expect(lu.modes.descriptorSense).to.equal(true);
    expect(lu.modes.softwareWriteProtect).to.equal(true);
    const d = dataOf(await run([0x1a, 0x08, 0x0a, 0, 0xff, 0], { lu }));
    expect(d.toString('hex')).to.equal(hex('0f 00 90 00' + '0a0a 06100800 000000000000'));
  });

  it('a select that changes nothing raises no unit attention', async () => {
    const lu = makeLu();
    expect((await select6('00000000' + CONTROL, lu)).status).to.equal(Status.GOOD);
    expect(lu.raised).to.deep.equal([]);
  });

  it('ignores PS and the echoed WP/DPOFUA header bits', async () => {
    const lu = makeLu();
    expect((await select6('00009000' + '8a0a 06100000 000000000000', lu)).status).to.equal(Status.GOOD);
    expect(lu.modes.descriptorSense).to.equal(true);
  });

  it('accepts a block descriptor that repeats the geometry, refuses another block length', async () => {
    expect((await select6('00000008' + '00000800 00 000200' + CONTROL)).status).to.equal(Status.GOOD);
    expect((await select6('00000008' + '00000000 00 000200' + CONTROL)).status).to.equal(Status.GOOD);
    const s = senseOf(await select6('00000008' + '00000800 00 001000' + CONTROL));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x26, 0x00]);
    expect(s.sks).to.deep.equal([0x80, 0x00, 0x09]);
    // long descriptor in MODE SELECT(10)
    expect((await select10('0000 0000 01 00 0010' + '0000000000000800 00000000 00000200')).status).to.equal(Status.GOOD);
    expect(senseOf(await select10('0000 0000 00 00 0010' + '0000000000000800 00000000 00000200')).sks)
      .to.deep.equal([0x80, 0x00, 0x06]);
  });

  it('changing a non-changeable bit is INVALID FIELD IN PARAMETER LIST at that byte and bit', async () => {
    // control page byte 3: QERR 01b (bit 1) is not changeable; the page starts at list byte 4
    const s = senseOf(await select6('00000000' + '0a0a 02120000 000000000000'));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x26, 0x00]);
    expect(s.sks).to.deep.equal([0x89, 0x00, 0x07]);
    // caching page RCD (byte 2 bit 0) after a block descriptor: list byte 4 + 8 + 2
    const s2 = senseOf(await select6('00000008' + '00000800 00 000200' + '0812 05' + '00'.repeat(17)));
    expect(s2.sks).to.deep.equal([0x88, 0x00, 0x0e]);
  });

  it('nothing is applied when a later page is refused', async () => {
    const lu = makeLu();
    const out = await select6('00000000' + '0812' + '00'.repeat(18) + '0a0a 02120000 000000000000', lu);
    expect(senseOf(out).sks).to.deep.equal([0x89, 0x00, 0x1b]);
    expect(lu.backstore.writeBack).to.equal(true);
    expect(lu.modes.writeCacheEnabled).to.equal(true);
    expect(lu.raised).to.deep.equal([]);
  });

  it('a wrong PAGE LENGTH is INVALID FIELD IN PARAMETER LIST at the length byte', async () => {
    expect(senseOf(await select6('00000000' + '0a08 0210000000000000')).sks).to.deep.equal([0x80, 0x00, 0x05]);
  });

  it('an unknown page is INVALID FIELD IN PARAMETER LIST at the page code', async () => {
    expect(senseOf(await select6('00000000' + '0506 000000000000')).sks).to.deep.equal([0x8d, 0x00, 0x04]);
  });

  it('a non-zero MODE DATA LENGTH or reserved header bit is refused', async () => {
    expect(senseOf(await select6('0f000000' + CONTROL)).sks).to.deep.equal([0x80, 0x00, 0x00]);
    expect(senseOf(await select6('00000100' + CONTROL)).sks).to.deep.equal([0x88, 0x00, 0x02]);
  });

  it('a truncated list is PARAMETER LIST LENGTH ERROR', async () => {
    for (const list of ['000000', '00000000 0a', '00000000 0a0a 0210', '00000008 00000800']) {
      const s = senseOf(await select6(list));
      expect([s.key, s.asc, s.ascq], list).to.deep.equal([0x5, 0x1a, 0x00]);
    }
  });

  it('PF 0 and SP 1 are INVALID FIELD IN CDB at byte 1 (bits 4 and 0)', async () => {
    expect(senseOf(await run([0x15, 0x00, 0, 0, 0, 0])).sks).to.deep.equal([0xcc, 0x00, 0x01]);
    expect(senseOf(await run([0x15, 0x11, 0, 0, 0, 0])).sks).to.deep.equal([0xc8, 0x00, 0x01]);
    expect(senseOf(await run([0x55, 0x11, 0, 0, 0, 0, 0, 0, 0, 0])).sks).to.deep.equal([0xc8, 0x00, 0x01]);
  });

  it('a zero PARAMETER LIST LENGTH changes nothing', async () => {
    const lu = makeLu();
    expect((await run([0x15, 0x10, 0, 0, 0, 0], { lu })).status).to.equal(Status.GOOD);
    expect(lu.raised).to.deep.equal([]);
  });

  it('ModePages exposes the values other layers act on', () => {
    const m = new ModePages({ pages: [...SBC_MODE_PAGES, ...SPC_MODE_PAGES], writeBack: false });
    expect([m.writeCacheEnabled, m.descriptorSense, m.softwareWriteProtect]).to.deep.equal([false, false, false]);
  });
});
