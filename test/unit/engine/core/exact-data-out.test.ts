import { expect } from 'chai';
import { EmbeddedTarget } from '../../../../src/embedded';
import { Status } from '../../../../src/engine/spec/status';
import { clearUa, INIT_A, ram, startTarget, target } from '../embedded/fixture';

/**
 * COMPARE AND WRITE splits its Data-Out at NUMBER OF LOGICAL BLOCKS: a Data-Out of any other size
 * (the initiator's Expected Data Transfer Length) is INVALID FIELD IN CDB at byte 13, never
 * trimmed (libiscsi SCSI.CompareAndWrite.Simple sends 256 blocks, which byte 13 holds as 0).
 */
describe('pipeline: commands whose Data-Out must match the CDB exactly', () => {
  let t: EmbeddedTarget;
  afterEach(async () => { await t?.stop(); });

  // COMPARE AND WRITE, LBA 7, NUMBER OF LOGICAL BLOCKS in byte 13
  const caw = (blocks: number) => [0x89, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, blocks, 0, 0];
  // sense key, ASC, ASCQ, SKSV|C/D and field pointer bytes of fixed-format sense
  const fieldOf = (sense: Buffer) => [sense[2] & 0x0f, sense[12], sense[13], sense[15], sense[16], sense[17]];

  it('NUMBER OF LOGICAL BLOCKS 0 with 256 blocks of Data-Out is INVALID FIELD IN CDB at byte 13', async () => {
    t = await startTarget();
    const s = t.session(INIT_A);
    await clearUa(s);
    const r = await s.execute(0, caw(0), { dataOut: Buffer.alloc(2 * 256 * 512, 0x41), expectedLength: 2 * 256 * 512 });
    expect(r.status).to.equal(Status.CHECK_CONDITION);
    expect(fieldOf(r.sense!)).to.deep.equal([0x05, 0x24, 0x00, 0xc0, 0x00, 13]);
  });

  it('one block with four blocks of Data-Out, or with one and a half, is refused; two blocks exactly run', async () => {
    t = await startTarget();
    const s = t.session(INIT_A);
    await clearUa(s);
    const big = await s.execute(0, caw(1), { dataOut: Buffer.alloc(4 * 512), expectedLength: 4 * 512 });
    expect(fieldOf(big.sense!)).to.deep.equal([0x05, 0x24, 0x00, 0xc0, 0x00, 13]);
    const small = await s.execute(0, caw(1), { dataOut: Buffer.alloc(768), expectedLength: 768 });
    expect(fieldOf(small.sense!)).to.deep.equal([0x05, 0x24, 0x00, 0xc0, 0x00, 13]);
    // the medium is zeros: compare half zeros, write half 0x5a
    const data = Buffer.concat([Buffer.alloc(512), Buffer.alloc(512, 0x5a)]);
    const ok = await s.execute(0, caw(1), { dataOut: data, expectedLength: 1024 });
    expect(ok.status).to.equal(Status.GOOD);
    const rd = await s.execute(0, [0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0]);
    expect(rd.data.equals(Buffer.alloc(512, 0x5a))).to.equal(true);
  });

  it('WRITE SAME(10/16) take exactly one block: more or less is INVALID FIELD IN COMMAND INFORMATION UNIT', async () => {
    t = await startTarget();
    const s = t.session(INIT_A);
    await clearUa(s);
    const ws10 = [0x41, 0, 0, 0, 0, 3, 0, 0, 2, 0];
    const ws16 = [0x93, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0];
    for (const [c, len] of [[ws10, 1024], [ws10, 256], [ws16, 1024], [ws16, 256]] as const) {
      const r = await s.execute(0, [...c], { dataOut: Buffer.alloc(len, 7), expectedLength: len });
      expect([r.status, r.senseKey, r.asc, r.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x05, 0x0e, 0x03]);
    }
    // NDOB: no Data-Out at all
    const ndob = await s.execute(0, [0x93, 0x01, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0], { dataOut: Buffer.alloc(512), expectedLength: 512 });
    expect([ndob.senseKey, ndob.asc, ndob.ascq]).to.deep.equal([0x05, 0x0e, 0x03]);
    const ok = await s.execute(0, ws10, { dataOut: Buffer.alloc(512, 7), expectedLength: 512 });
    expect(ok.status).to.equal(Status.GOOD);
  });

  it('on a read-only mapping a write with the wrong Data-Out length is WRITE PROTECTED, not a length error', async () => {
    t = await startTarget([ram('disk0')], target({ luns: [{ lun: 0, device: 'disk0', readOnly: true }] }));
    const s = t.session(INIT_A);
    await clearUa(s);
    // WRITE SAME(10) UNMAP with no Data-Out, COMPARE AND WRITE 0 blocks with 2 blocks, WRITE(10) short
    const cases: Array<[number[], number]> = [
      [[0x41, 0x08, 0, 0, 0, 0, 0, 0, 1, 0], 0],
      [caw(0), 1024],
      [[0x2a, 0, 0, 0, 0, 0, 0, 0, 2, 0], 512],
    ];
    for (const [c, len] of cases) {
      const r = await s.execute(0, c, { dataOut: Buffer.alloc(len), expectedLength: len });
      expect([r.status, r.senseKey, r.asc, r.ascq]).to.deep.equal([Status.CHECK_CONDITION, 0x07, 0x27, 0x00]);
    }
  });
});
