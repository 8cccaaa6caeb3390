import { expect } from 'chai';
import {
  blockDescriptorList, block, cartridge, cdb, INVALID_FIELD_IN_PARAMETER_LIST, kcq, MiB, session, setBlockLength, start,
} from './fixture';

/**
 * What the drive says about itself: INQUIRY (type 01h, RMB, VPD B0h), READ BLOCK LIMITS, REPORT
 * DENSITY SUPPORT, MODE SENSE/SELECT (header, block descriptor, pages 0Fh/10h/11h), LOG SENSE
 * (0Ch, 2Eh), REQUEST SENSE, REPORT SUPPORTED OPERATION CODES.
 */

describe('engine/ssc reports', () => {
  it('INQUIRY: PERIPHERAL DEVICE TYPE 01h, RMB 1; VPD 00h lists 80h, 83h and B0h; B0h says WORM 0', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const i = await s.execute(0, cdb.inquiry());
    expect([i.data[0], i.data[1]]).to.deep.equal([0x01, 0x80]);
    const v = await s.execute(0, cdb.inquiry(255, true, 0));
    const pages = [...v.data.subarray(4, 4 + v.data[3])];
    expect(pages).to.include.members([0x00, 0x80, 0x83, 0xb0]);
    const b0 = await s.execute(0, cdb.inquiry(255, true, 0xb0));
    expect([...b0.data]).to.deep.equal([0x01, 0xb0, 0x00, 0x02, 0x00, 0x00]);
    await t.stop();
  });

  it('READ BLOCK LIMITS: granularity 0, 1 MiB maximum, 1 byte minimum', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const r = await s.execute(0, cdb.readBlockLimits());
    expect([...r.data]).to.deep.equal([0x00, 0x10, 0x00, 0x00, 0x00, 0x01]);
    await t.stop();
  });

  it('REPORT DENSITY SUPPORT: one 52-byte descriptor, density 80h, DEFLT, DLV, capacity of the mounted cartridge', async () => {
    const t = await start(await cartridge({ capacityBytes: 512 * MiB }));
    const s = await session(t);
    const r = await s.execute(0, cdb.reportDensitySupport(true));
    expect(r.data.length).to.equal(56);
    expect(r.data.readUInt16BE(0)).to.equal(54);
    const d = r.data.subarray(4);
    expect([d[0], d[1], d[2]]).to.deep.equal([0x80, 0x80, 0xa1]); // WRTOK | DEFLT | DLV
    expect(d.readUInt16BE(3)).to.equal(49);
    expect(d.readUInt32BE(12)).to.equal(536);
    expect(d.toString('latin1', 16, 24)).to.equal('NEXUS   ');
    await t.stop();
  });

  it('REPORT DENSITY SUPPORT with MEDIA on an empty drive is NOT READY; without it the drive answers', async () => {
    const t = await start(undefined);
    const s = await session(t);
    expect(kcq(await s.execute(0, cdb.reportDensitySupport(true)))).to.deep.equal([0x02, 0x3a, 0x00]);
    expect(kcq(await s.execute(0, cdb.reportDensitySupport(false)))).to.equal('GOOD');
    await t.stop();
  });

  it('MODE SENSE(6): header with BUFFERED MODE 1, an 8-byte block descriptor: density 80h, 0 blocks, block length 0 (variable)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const r = await s.execute(0, cdb.modeSense6(0x00));
    expect([...r.data]).to.deep.equal([11, 0, 0x10, 8, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    await setBlockLength(s, 65536);
    const f = await s.execute(0, cdb.modeSense6(0x00));
    expect([...f.data.subarray(9, 12)]).to.deep.equal([0x01, 0x00, 0x00]);
    const ten = await s.execute(0, cdb.modeSense10(0x00));
    expect(ten.data.readUInt16BE(6)).to.equal(8);
    expect(ten.data[4]).to.equal(0); // LONGLBA
    await t.stop();
  });

  it('MODE SENSE reports WP for a write-protected cartridge', async () => {
    const t = await start(await cartridge({ writeProtected: true }));
    const s = await session(t);
    expect((await s.execute(0, cdb.modeSense6(0x00))).data[2] & 0x80).to.equal(0x80);
    await t.stop();
  });

  it('MODE SELECT: block length outside the limits, NUMBER OF BLOCKS, unknown density, BUFFERED MODE 2 are refused', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const bad = async (list: number[]): Promise<number> => {
      const r = await s.execute(0, cdb.modeSelect6(list.length), { dataOut: Buffer.from(list) });
      expect(kcq(r)).to.deep.equal(INVALID_FIELD_IN_PARAMETER_LIST);
      return (r.sense![16] << 8) | r.sense![17];
    };
    expect(await bad(blockDescriptorList(2 * MiB))).to.equal(9);
    const n = blockDescriptorList(512); n[7] = 1;
    expect(await bad(n)).to.equal(5);
    expect(await bad(blockDescriptorList(512, 0x42))).to.equal(4);
    expect(await bad(blockDescriptorList(512, 0, 2))).to.equal(2);
    // the drive is still in variable mode
    expect((await s.execute(0, cdb.modeSense6(0x00))).data.readUIntBE(9, 3)).to.equal(0);
    expect(kcq(await s.execute(0, cdb.modeSelect6(12), { dataOut: Buffer.from(blockDescriptorList(1024, 0x80, 0)) }))).to.equal('GOOD');
    const m = await s.execute(0, cdb.modeSense6(0x00));
    expect([m.data[2], m.data.readUIntBE(9, 3)]).to.deep.equal([0x00, 1024]);
    await t.stop();
  });

  it('mode pages 0Fh (no compression: DCE 0, DCC 0), 10h (device configuration), 11h (one partition)', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const dc = await s.execute(0, cdb.modeSense6(0x0f, 0xff, true));
    expect([...dc.data.subarray(4)]).to.deep.equal([0x0f, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const cfg = await s.execute(0, cdb.modeSense6(0x10, 0xff, true));
    expect([...cfg.data.subarray(4)]).to.deep.equal([0x10, 0x0e, 0, 0, 0, 0, 0, 0, 0x40, 0, 0x18, 0, 0, 0, 0, 0]);
    const mp = await s.execute(0, cdb.modeSense6(0x11, 0xff, true));
    expect([...mp.data.subarray(4)]).to.deep.equal([0x11, 0x06, 0, 0, 0, 0x03, 0, 0]);
    const all = await s.execute(0, cdb.modeSense6(0x3f));
    expect(all.data[3]).to.equal(8);
    await t.stop();
  });

  it('LOG SENSE: supported pages list 0Ch and 2Eh; 0Ch counts the bytes written and read; 2Eh has 64 clear flags', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const list = await s.execute(0, [0x4d, 0, 0x40, 0, 0, 0, 0, 0, 0xff, 0]);
    expect([...list.data.subarray(4)]).to.include.members([0x00, 0x0c, 0x2e]);
    await s.execute(0, cdb.write6(1000), { dataOut: block(1000, 1) });
    await s.execute(0, cdb.rewind());
    await s.execute(0, cdb.read6(1000));
    const p = await s.execute(0, cdb.logSense(0x0c));
    expect(p.data[0] & 0x3f).to.equal(0x0c);
    const params = new Map<number, Buffer>();
    for (let o = 4; o < 4 + p.data.readUInt16BE(2);) {
      params.set(p.data.readUInt16BE(o), p.data.subarray(o + 4, o + 4 + p.data[o + 3]));
      o += 4 + p.data[o + 3];
    }
    expect(params.get(0x0000)!.readBigUInt64BE(0)).to.equal(1000n);
    expect(params.get(0x0003)!.readBigUInt64BE(0)).to.equal(1000n);
    expect([...params.get(0x0100)!]).to.deep.equal([0]);
    const ta = await s.execute(0, cdb.logSense(0x2e));
    expect(ta.data.readUInt16BE(2)).to.equal(64 * 5);
    expect([ta.data.readUInt16BE(4), ta.data[7], ta.data[8]]).to.deep.equal([1, 1, 0]);
    await t.stop();
  });

  it('REQUEST SENSE: NO SENSE with no stream bits in the middle of the tape', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const r = await s.execute(0, cdb.requestSense());
    expect([r.data[0], r.data[2], r.data[12], r.data[13]]).to.deep.equal([0x70, 0x00, 0x00, 0x00]);
    await t.stop();
  });

  it('REPORT SUPPORTED OPERATION CODES lists the SSC-4 rows and no disk rows', async () => {
    const t = await start(await cartridge());
    const s = await session(t);
    const r = await s.execute(0, [0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]);
    const ops = new Set<number>();
    for (let o = 4; o < 4 + r.data.readUInt32BE(0); o += 8) ops.add(r.data[o]);
    for (const op of [0x00, 0x01, 0x05, 0x08, 0x0a, 0x10, 0x11, 0x19, 0x1b, 0x1e, 0x2b, 0x34, 0x44]) expect(ops.has(op), op.toString(16)).to.equal(true);
    for (const op of [0x25, 0x28, 0x2a, 0x35]) expect(ops.has(op), op.toString(16)).to.equal(false);
    await t.stop();
  });
});
