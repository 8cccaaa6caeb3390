import { expect } from 'chai';
import { LuStatistics } from '../../../../src/engine/lu-statistics';
import { Status } from '../../../../src/engine/spec/status';
import { dataOf, makeLu, run, senseOf, TestLu } from './fixtures';

const hex = (s: string): string => s.replace(/\s+/g, '');
const u64 = (n: number): string => n.toString(16).padStart(16, '0');
/** LOG SENSE CDB (SPC-4 6.8). */
const logSense = (byte2: number, subpage = 0, pointer = 0, byte1 = 0): number[] =>
  [0x4d, byte1, byte2, subpage, 0, pointer >> 8, pointer & 0xff, 0x10, 0x00, 0];

function busyLu(): TestLu {
  const lu = makeLu({ statistics: true });
  lu.statistics!.recordRead(8, true, 3_500_000);
  lu.statistics!.recordWrite(16, false, 2_000_000);
  lu.statistics!.recordIdle(10_000_000);
  return lu;
}

describe('engine/spc LOG SENSE (SPC-4 6.8, 7.3)', () => {
  it('page 00h lists the supported pages', async () => {
    expect(dataOf(await run(logSense(0x40))).toString('hex')).to.equal('0000000100');
    expect(dataOf(await run(logSense(0x40), { lu: makeLu({ statistics: true }) })).toString('hex')).to.equal('000000020019');
  });

  it('page 00h subpage FFh lists pages and subpages', async () => {
    expect(dataOf(await run(logSense(0x40, 0xff), { lu: makeLu({ statistics: true }) })).toString('hex'))
      .to.equal(hex('40ff0006' + '0000' + '00ff' + '1900'));
  });

  it('page 19h reports the counters in 1 ms intervals', async () => {
    const d = dataOf(await run(logSense(0x59), { lu: busyLu() }));
    expect(d.toString('hex')).to.equal(hex('99 00 00a0' +
      '0001 22 40' + u64(1) + u64(1) + u64(16) + u64(8) + u64(3) + u64(2) + u64(0) + u64(0) +
      '0002 22 08' + u64(10) +
      '0003 23 08' + '00000003 00000001' +
      '0004 22 40' + u64(1) + u64(0) + u64(0) + u64(0) + u64(3) + u64(0) + u64(0) + u64(0)));
  });

  it('PARAMETER POINTER starts at that parameter code; past the last is INVALID FIELD IN CDB', async () => {
    const d = dataOf(await run(logSense(0x59, 0, 3), { lu: busyLu() }));
    expect(d.subarray(0, 8).toString('hex')).to.equal('99000050' + '00032308');
    expect(senseOf(await run(logSense(0x59, 0, 5), { lu: busyLu() })).sks).to.deep.equal([0xc0, 0x00, 0x05]);
  });

  it('PC 11b returns default (zero) cumulative values', async () => {
    const d = dataOf(await run(logSense(0xd9), { lu: busyLu() }));
    expect(d.subarray(8, 72).toString('hex')).to.equal('00'.repeat(64));
  });

  it('threshold values do not exist: INVALID FIELD IN CDB at PC', async () => {
    expect(senseOf(await run(logSense(0x19), { lu: busyLu() })).sks).to.deep.equal([0xcf, 0x00, 0x02]);
  });

  it('PPC and SP are INVALID FIELD IN CDB at byte 1', async () => {
    expect(senseOf(await run(logSense(0x40, 0, 0, 0x02))).sks).to.deep.equal([0xc9, 0x00, 0x01]);
    expect(senseOf(await run(logSense(0x40, 0, 0, 0x01))).sks).to.deep.equal([0xc8, 0x00, 0x01]);
  });

  it('unsupported page or subpage is INVALID FIELD IN CDB', async () => {
    const s = senseOf(await run(logSense(0x59)));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x24, 0x00]);
    expect(s.sks).to.deep.equal([0xcd, 0x00, 0x02]);
    expect(senseOf(await run(logSense(0x40, 0x05))).sks).to.deep.equal([0xc0, 0x00, 0x03]);
  });
});

describe('engine/spc LOG SELECT (SPC-4 6.7)', () => {
  const logSelect = (byte1: number, byte2: number, len = 0): number[] => [0x4c, byte1, byte2, 0, 0, 0, 0, len >> 8, len & 0xff, 0];

  it('PCR 1 resets the counters', async () => {
    const lu = busyLu();
    expect((await run(logSelect(0x02, 0x40), { lu })).status).to.equal(Status.GOOD);
    expect(lu.statistics!.readCommands).to.equal(0);
    expect(lu.statistics!.idleNs).to.equal(0);
  });

  it('PC 11b with no list resets page 19h to its defaults', async () => {
    const lu = busyLu();
    expect((await run(logSelect(0x00, 0xd9), { lu })).status).to.equal(Status.GOOD);
    expect(lu.statistics!.blocksReceived).to.equal(0);
  });

  it('PCR 1 with a parameter list, SP 1, and unknown pages are refused', async () => {
    expect(senseOf(await run(logSelect(0x02, 0x40, 8), { lu: busyLu() })).sks).to.deep.equal([0xc0, 0x00, 0x07]);
    expect(senseOf(await run(logSelect(0x01, 0x40))).sks).to.deep.equal([0xc8, 0x00, 0x01]);
    expect(senseOf(await run(logSelect(0x00, 0x5a))).sks).to.deep.equal([0xcd, 0x00, 0x02]);
  });

  it('no parameter can be set: INVALID FIELD IN PARAMETER LIST', async () => {
    const list = Buffer.from(hex('19000010' + '0001 22 08' + u64(5)), 'hex');
    const s = senseOf(await run(logSelect(0x00, 0x40, list.length), { lu: busyLu(), dataOut: list }));
    expect([s.key, s.asc, s.ascq]).to.deep.equal([0x5, 0x26, 0x00]);
    expect(s.sks).to.deep.equal([0x80, 0x00, 0x04]);
    const other = Buffer.from(hex('0d000000'), 'hex');
    expect(senseOf(await run(logSelect(0x00, 0x40, 4), { lu: busyLu(), dataOut: other })).sks).to.deep.equal([0x8d, 0x00, 0x00]);
  });
});

describe('engine/spc LuStatistics idle time', () => {
  it('counts from idleAt to busyAt once; a second busyAt adds nothing', () => {
    const s = new LuStatistics();
    s.busyAt(0); // ends the construction-time idle period
    s.reset();
    s.idleAt(1_000);
    s.busyAt(4_500);
    s.busyAt(9_000);
    expect(s.idleNs).to.equal(3_500);
    s.idleAt(10_000);
    s.busyAt(10_250);
    expect(s.idleNs).to.equal(3_750);
  });
});
