import { expect } from 'chai';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { SENSE } from '../../../../src/engine/spec/asc';
import { Status } from '../../../../src/engine/spec/status';
import { RecordingBackstore, be, blocksOf, expectCheck, expectGood, makeLu, run } from './fixture';

describe('SBC VERIFY and WRITE AND VERIFY', () => {
  async function seeded() {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(10, 4), 0, 0, 3, 0], blocksOf(512, 0x31, 0x32, 0x33)));
    return lu;
  }

  it('BYTCHK 00b verifies the medium with no Data-Out', async () => {
    const lu = await seeded();
    expectGood(await run(lu, [0x2f, 0x00, ...be(10, 4), 0, 0, 3, 0]));
    expectCheck(await run(lu, [0x2f, 0x00, ...be(2047, 4), 0, 0, 2, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
  });

  it('BYTCHK 01b compares: equal is GOOD, a difference is MISCOMPARE with the offset of the first differing byte', async () => {
    const lu = await seeded();
    const same = blocksOf(512, 0x31, 0x32, 0x33);
    expectGood(await run(lu, [0x2f, 0x02, ...be(10, 4), 0, 0, 3, 0], same));
    const diff = Buffer.from(same);
    diff[512 + 77] ^= 0x01; // block 1, byte 77
    diff[1024 + 3] ^= 0x01; // a later difference must not win
    expectCheck(await run(lu, [0x2f, 0x02, ...be(10, 4), 0, 0, 3, 0], diff), SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: 589n });
    // VERIFY(16) and VERIFY(12) with the same rule
    expectCheck(await run(lu, [0x8f, 0x02, ...be(10, 8), ...be(3, 4), 0, 0], diff), SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: 589n });
    expectGood(await run(lu, [0xaf, 0x02, ...be(10, 4), ...be(3, 4), 0, 0], same));
  });

  it('BYTCHK 11b compares one Data-Out block against every block of the range', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(20, 4), 0, 0, 3, 0], blocksOf(512, 0x5a, 0x5a, 0x5b)));
    expectGood(await run(lu, [0x2f, 0x06, ...be(20, 4), 0, 0, 2, 0], blocksOf(512, 0x5a)));
    // third block differs from its first byte: offset 2 × 512
    expectCheck(await run(lu, [0x2f, 0x06, ...be(20, 4), 0, 0, 3, 0], blocksOf(512, 0x5a)),
      SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: 1024n });
  });

  it('BYTCHK 10b is INVALID FIELD IN CDB at byte 1', async () => {
    const lu = await seeded();
    expectCheck(await run(lu, [0x2f, 0x04, ...be(10, 4), 0, 0, 1, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 2 });
  });

  it('VERIFICATION LENGTH 0 is GOOD', async () => {
    const lu = await seeded();
    expectGood(await run(lu, [0x2f, 0x02, ...be(10, 4), 0, 0, 0, 0], new Uint8Array(0)));
  });

  it('WRITE AND VERIFY writes with FUA, reads back, and refuses BYTCHK 10b/11b', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, [0x2e, 0x02, ...be(4, 4), 0, 0, 1, 0], blocksOf(512, 0x44)));
    expect(rec.calls).to.deep.equal(['write 2048+512 fua', 'read 2048+512']);
    expectGood(await run(lu, [0x8e, 0x00, ...be(5, 8), ...be(1, 4), 0, 0], blocksOf(512, 0x45)));
    expect(Buffer.from((await run(lu, [0x28, 0, ...be(4, 4), 0, 0, 2, 0])).data!).equals(blocksOf(512, 0x44, 0x45))).to.equal(true);
    expectCheck(await run(lu, [0x2e, 0x06, ...be(4, 4), 0, 0, 1, 0], new Uint8Array(0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 2 });
  });
});

describe('SBC COMPARE AND WRITE', () => {
  const caw = (lba: number, blocks: number, fua = false) => [0x89, fua ? 0x08 : 0, ...be(lba, 8), 0, 0, 0, blocks, 0, 0];

  it('writes the second half when the first half matches', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(7, 4), 0, 0, 1, 0], blocksOf(512, 0x01)));
    expectGood(await run(lu, caw(7, 1), blocksOf(512, 0x01, 0x02)));
    expect((await run(lu, [0x28, 0, ...be(7, 4), 0, 0, 1, 0])).data![0]).to.equal(0x02);
  });

  it('miscompare: MISCOMPARE DURING VERIFY OPERATION, INFORMATION = first differing byte, nothing written', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(7, 4), 0, 0, 1, 0], blocksOf(512, 0x01)));
    const d = blocksOf(512, 0x01, 0x02);
    d[300] = 0xee;
    expectCheck(await run(lu, caw(7, 1), d), SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: 300n });
    const after = (await run(lu, [0x28, 0, ...be(7, 4), 0, 0, 1, 0])).data!;
    expect(Buffer.from(after).equals(blocksOf(512, 0x01))).to.equal(true);
  });

  it('NUMBER OF LOGICAL BLOCKS 0 is GOOD; above MAXIMUM COMPARE AND WRITE LENGTH is INVALID FIELD IN CDB at byte 13', async () => {
    const lu = makeLu();
    expectGood(await run(lu, caw(7, 0), new Uint8Array(0)));
    expectCheck(await run(lu, caw(7, 2), Buffer.alloc(4 * 512)), SENSE.INVALID_FIELD_IN_CDB, { byte: 13 });
  });

  it('a store that compares and writes itself with a larger bound: several blocks reach it in one call, one more is refused', async () => {
    const mem = new MemoryBackstore({ sizeBytes: 2048n * 512n });
    const seen: string[] = [];
    // What an rbd image does (one operation on the cluster), reduced to its contract.
    const store = Object.assign(new RecordingBackstore(mem), {
      maxCompareAndWriteBlocks: 8,
      async compareAndWrite(offset: number, verify: Uint8Array, data: Uint8Array): Promise<number> {
        seen.push(`caw ${offset}+${data.length}`);
        const cur = new Uint8Array(verify.length);
        await mem.read(offset, cur);
        for (let i = 0; i < cur.length; i++) if (cur[i] !== verify[i]) return i;
        await mem.write(offset, data, false);
        return -1;
      },
    });
    const lu = makeLu({ backstore: store });
    expectGood(await run(lu, caw(16, 8), Buffer.concat([Buffer.alloc(8 * 512), Buffer.alloc(8 * 512, 0x61)])));
    expect(seen).to.deep.equal([`caw ${16 * 512}+${8 * 512}`]);
    const d = Buffer.concat([Buffer.alloc(8 * 512, 0x61), Buffer.alloc(8 * 512, 0x62)]);
    d[5 * 512 + 9] = 0;
    expectCheck(await run(lu, caw(16, 8), d), SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: BigInt(5 * 512 + 9) });
    expectCheck(await run(lu, caw(16, 9), Buffer.alloc(18 * 512)), SENSE.INVALID_FIELD_IN_CDB, { byte: 13 });
  });

  it('range: last block accepted, one past refused with the LBA', async () => {
    const lu = makeLu();
    expectGood(await run(lu, caw(2047, 1), Buffer.alloc(1024)));
    expectCheck(await run(lu, caw(2048, 1), Buffer.alloc(1024)), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
  });

  it('FUA reaches the backstore write', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, caw(1, 1, true), Buffer.alloc(1024)));
    expect(rec.calls).to.deep.equal(['read 512+512', 'write 512+512 fua']);
  });

  describe('atomicity against a concurrent WRITE to the same LBA', () => {
    /** A backstore whose reads wait until released, so commands can be interleaved by hand. */
    function gated() {
      let release!: () => void;
      const opened = new Promise<void>(r => { release = r; });
      let first = true;
      const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }), async op => {
        if (op === 'read' && first) { first = false; await opened; }
      });
      return { rec, release };
    }
    const tick = () => new Promise<void>(r => setImmediate(r));

    it('a WRITE issued while COMPARE AND WRITE holds the range runs after it, not between its read and write', async () => {
      const { rec, release } = gated();
      const lu = makeLu({ backstore: rec });
      const cawDone = run(lu, caw(9, 1), blocksOf(512, 0x00, 0xca)); // medium is zeros: compare passes
      await tick();
      const writeDone = run(lu, [0x2a, 0, ...be(9, 4), 0, 0, 1, 0], blocksOf(512, 0x77));
      await tick(); await tick();
      // the CAW's read is parked and the WRITE has not reached the backstore
      expect(rec.calls).to.deep.equal(['read 4608+512']);
      release();
      expectGood(await cawDone);
      expectGood(await writeDone);
      expect(rec.calls).to.deep.equal(['read 4608+512', 'write 4608+512', 'write 4608+512']);
      // the WRITE came last: its data is what the medium holds
      const now = await run(lu, [0x28, 0, ...be(9, 4), 0, 0, 1, 0]);
      expect(now.data![0]).to.equal(0x77);
    });

    it('a COMPARE AND WRITE issued after a WRITE of the same block compares against the written data', async () => {
      const lu = makeLu();
      const w = run(lu, [0x2a, 0, ...be(9, 4), 0, 0, 1, 0], blocksOf(512, 0x77));
      const c = run(lu, caw(9, 1), blocksOf(512, 0x00, 0xca)); // expects zeros: the WRITE got there first
      expectGood(await w);
      expectCheck(await c, SENSE.MISCOMPARE_DURING_VERIFY_OPERATION, { information: 0n });
    });

    it('commands on other blocks are not held up by the lock', async () => {
      const { rec, release } = gated();
      const lu = makeLu({ backstore: rec });
      const cawDone = run(lu, caw(9, 1), blocksOf(512, 0x00, 0xca));
      await tick();
      expectGood(await run(lu, [0x2a, 0, ...be(10, 4), 0, 0, 1, 0], blocksOf(512, 0x10)));
      expect(rec.calls).to.deep.equal(['read 4608+512', 'write 5120+512']);
      release();
      expectGood(await cawDone);
    });
  });
});

describe('SBC ORWRITE(16)', () => {
  it('ORs the Data-Out into the medium', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(3, 4), 0, 0, 1, 0], blocksOf(512, 0x0f)));
    expectGood(await run(lu, [0x8b, 0, ...be(3, 8), ...be(1, 4), 0, 0], blocksOf(512, 0xf0 & 0x30)));
    expect((await run(lu, [0x28, 0, ...be(3, 4), 0, 0, 1, 0])).data![100]).to.equal(0x3f);
    expectCheck(await run(lu, [0x8b, 0, ...be(2048, 8), ...be(1, 4), 0, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
    const o = await run(lu, [0x8b, 0, ...be(3, 8), ...be(0, 4), 0, 0], new Uint8Array(0));
    expect(o.status).to.equal(Status.GOOD);
  });
});
