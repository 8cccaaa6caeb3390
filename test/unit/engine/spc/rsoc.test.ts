import { expect } from 'chai';
import { dataOf, run, senseOf } from './fixtures';

const hex = (s: string): string => s.replace(/\s+/g, '');
/** REPORT SUPPORTED OPERATION CODES CDB (SPC-4 6.35.1). */
const rsoc = (byte2: number, op = 0, sa = 0): number[] =>
  [0xa3, 0x0c, byte2, op, sa >> 8, sa & 0xff, 0, 0, 0x10, 0, 0, 0];

describe('engine/spc REPORT SUPPORTED OPERATION CODES (SPC-4 6.35)', () => {
  it('000b lists every row of the table, service-action rows with SERVACTV', async () => {
    const d = dataOf(await run(rsoc(0x00)));
    expect(d.toString('hex')).to.equal(hex('00000058' +
      '12 00 0000 00 00 0006' + '1a 00 0000 00 00 0006' + '5a 00 0000 00 00 000a' +
      '15 00 0000 00 00 0006' + '55 00 0000 00 00 000a' + '4d 00 0000 00 00 000a' +
      '4c 00 0000 00 00 000a' + 'a3 00 000c 00 01 000c' + 'a3 00 000d 00 01 000c' +
      // SPC-4 6.37, 6.46: REPORT and SET TARGET PORT GROUPS (MAINTENANCE IN / OUT 0Ah)
      'a3 00 000a 00 01 000c' + 'a4 00 000a 00 01 000c'));
  });

  it('000b with RCTD appends a command timeouts descriptor to each and sets CTDP', async () => {
    const d = dataOf(await run(rsoc(0x80)));
    expect(d.readUInt32BE(0)).to.equal(11 * 20);
    expect(d.subarray(4, 24).toString('hex')).to.equal(hex('12 00 0000 00 02 0006' + '000a 00 00 00000001 0000000a'));
    expect(d.subarray(4 + 7 * 20, 4 + 8 * 20).toString('hex')).to.equal(hex('a3 00 000c 00 03 000c' + '000a 00 00 00000001 0000000a'));
  });

  it('001b reports one opcode with its CDB usage data', async () => {
    expect(dataOf(await run(rsoc(0x01, 0x12))).toString('hex')).to.equal(hex('00 03 0006' + '12 01 ff ff ff 00'));
    expect(dataOf(await run(rsoc(0x01, 0x5a))).toString('hex')).to.equal(hex('00 03 000a' + '5a 18 ff ff 00 00 00 ff ff 00'));
  });

  it('001b with RCTD adds the timeouts descriptor', async () => {
    expect(dataOf(await run(rsoc(0x81, 0x15))).toString('hex'))
      .to.equal(hex('00 83 0006' + '15 10 00 00 ff 00' + '000a 00 00 00000001 0000001e'));
  });

  it('001b of an opcode not in the table: SUPPORT 001b, no usage data', async () => {
    expect(dataOf(await run(rsoc(0x01, 0x28))).toString('hex')).to.equal('00010000');
  });

  it('001b of an opcode with service actions is INVALID FIELD IN CDB', async () => {
    const s = senseOf(await run(rsoc(0x01, 0xa3)));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x24, 0x00]);
    expect(s.sks).to.deep.equal([0xc0, 0x00, 0x03]);
  });

  it('010b reports opcode + service action, with the service action in the usage data', async () => {
    expect(dataOf(await run(rsoc(0x02, 0xa3, 0x0c))).toString('hex'))
      .to.equal(hex('00 03 000c' + 'a3 0c 87 ff ff ff ff ff ff ff 00 00'));
    expect(dataOf(await run(rsoc(0x02, 0xa3, 0x0a))).toString('hex'))
      .to.equal(hex('00 03 000c' + 'a3 ea 00 00 00 00 ff ff ff ff 00 00'));
    expect(dataOf(await run(rsoc(0x02, 0xa4, 0x0a))).toString('hex'))
      .to.equal(hex('00 03 000c' + 'a4 0a 00 00 00 00 ff ff ff ff 00 00'));
    expect(dataOf(await run(rsoc(0x02, 0xa3, 0x0b))).toString('hex')).to.equal('00010000');
    expect(senseOf(await run(rsoc(0x02, 0x12))).sks).to.deep.equal([0xc0, 0x00, 0x03]);
  });

  it('011b takes the service action only where the opcode has one', async () => {
    expect(dataOf(await run(rsoc(0x03, 0x12, 0x05))).subarray(0, 4).toString('hex')).to.equal('00030006');
    expect(dataOf(await run(rsoc(0x03, 0xa3, 0x0d))).toString('hex'))
      .to.equal(hex('00 03 000c' + 'a3 0d 80 00 00 00 ff ff ff ff 00 00'));
  });

  it('reserved reporting options and reserved bits are INVALID FIELD IN CDB', async () => {
    expect(senseOf(await run(rsoc(0x04))).sks).to.deep.equal([0xca, 0x00, 0x02]);
    expect(senseOf(await run(rsoc(0x08))).sks).to.deep.equal([0xcb, 0x00, 0x02]);
  });
});

describe('engine/spc REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.36)', () => {
  const rstmf = (repd: boolean): number[] => [0xa3, 0x0d, repd ? 0x80 : 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0];

  it('reports ATS ATSS CTSS LURS QTS TRS, QTSS ITNRS; not CACAS nor QAES', async () => {
    expect(dataOf(await run(rstmf(false))).toString('hex')).to.equal('de030000');
  });

  it('REPD 1 returns the 16-byte extended format without timeouts', async () => {
    expect(dataOf(await run(rstmf(true))).toString('hex')).to.equal('de03000c' + '00'.repeat(12));
  });
});
