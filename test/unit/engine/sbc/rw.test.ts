import { expect } from 'chai';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { SENSE } from '../../../../src/engine/spec/asc';
import { RecordingBackstore, be, blocksOf, expectCheck, expectGood, makeLu, run } from './fixture';

// LU of 2048 blocks of 512 bytes unless said otherwise: the last LBA is 2047.
describe('SBC READ / WRITE', () => {
  it('WRITE(10) then READ(10) returns the written blocks', async () => {
    const lu = makeLu();
    const data = blocksOf(512, 0xa1, 0xa2);
    expectGood(await run(lu, [0x2a, 0, ...be(100, 4), 0, 0, 2, 0], data));
    const o = await run(lu, [0x28, 0, ...be(100, 4), 0, 0, 2, 0]);
    expectGood(o);
    expect(Buffer.from(o.data!).equals(data)).to.equal(true);
  });

  it('WRITE(6)/READ(6) address a 21-bit LBA, and TRANSFER LENGTH 0 means 256 blocks', async () => {
    const lu = makeLu();
    const data = Buffer.alloc(256 * 512);
    for (let i = 0; i < 256; i++) data.fill(i, i * 512, (i + 1) * 512);
    // LBA 0x000200 (bytes 1..3), length 0 (byte 4) = 256 blocks
    expectGood(await run(lu, [0x0a, 0x00, 0x02, 0x00, 0x00, 0], data));
    const o = await run(lu, [0x08, 0x00, 0x02, 0x00, 0x00, 0]);
    expect(o.data!.length).to.equal(256 * 512);
    expect(Buffer.from(o.data!).equals(data)).to.equal(true);
    // one block via READ(10) at LBA 0x200 + 255 = 767 holds 0xff
    const last = await run(lu, [0x28, 0, ...be(767, 4), 0, 0, 1, 0]);
    expect(last.data![0]).to.equal(0xff);
  });

  it('WRITE(12)/READ(12) and WRITE(16)/READ(16) round-trip', async () => {
    const lu = makeLu();
    const d12 = blocksOf(512, 0x12);
    expectGood(await run(lu, [0xaa, 0, ...be(5, 4), ...be(1, 4), 0, 0], d12));
    expect(Buffer.from((await run(lu, [0xa8, 0, ...be(5, 4), ...be(1, 4), 0, 0])).data!).equals(d12)).to.equal(true);
    const d16 = blocksOf(512, 0x16, 0x17, 0x18);
    expectGood(await run(lu, [0x8a, 0, ...be(2045, 8), ...be(3, 4), 0, 0], d16));
    expect(Buffer.from((await run(lu, [0x88, 0, ...be(2045, 8), ...be(3, 4), 0, 0])).data!).equals(d16)).to.equal(true);
  });

  describe('LBA boundaries (SBC-4 4.5: INFORMATION = the LBA)', () => {
    it('the last block is readable, one past is LBA OUT OF RANGE', async () => {
      const lu = makeLu();
      expectGood(await run(lu, [0x28, 0, ...be(2047, 4), 0, 0, 1, 0]));
      expectCheck(await run(lu, [0x28, 0, ...be(2048, 4), 0, 0, 1, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
      // a range that starts inside and runs past the end
      expectCheck(await run(lu, [0x28, 0, ...be(2047, 4), 0, 0, 2, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
      expectCheck(await run(lu, [0x2a, 0, ...be(2048, 4), 0, 0, 1, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
    });

    it('LBA 2^32 in READ(16) and WRITE(16) is out of range (no 32-bit wrap)', async () => {
      const lu = makeLu();
      expectCheck(await run(lu, [0x88, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...be(1, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 1n << 32n });
      expectCheck(await run(lu, [0x8a, 0, 0, 0, 0, 1, 0, 0, 0, 0, ...be(1, 4), 0, 0], blocksOf(512, 9)),
        SENSE.LBA_OUT_OF_RANGE, { information: 1n << 32n });
    });

    it('LBA 2^64-1 is out of range (no 64-bit wrap of LBA + length)', async () => {
      const lu = makeLu();
      const max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
      expectCheck(await run(lu, [0x88, 0, ...max, ...be(1, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: (1n << 64n) - 1n });
      expectCheck(await run(lu, [0x88, 0, ...max, ...be(0, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: (1n << 64n) - 1n });
    });

    it('LBAs either side of 2^53 (a number below, a bigint above) are out of range with the exact LBA', async () => {
      const lu = makeLu();
      for (const lba of [(1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n]) {
        expectCheck(await run(lu, [0x88, 0, ...be(lba, 8), ...be(1, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: lba });
      }
      // The last block is in range; one past it is not.
      expect((await run(lu, [0x88, 0, ...be(2047, 8), ...be(1, 4), 0, 0])).status).to.equal(0);
      expectCheck(await run(lu, [0x88, 0, ...be(2047, 8), ...be(2, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
    });

    it('READ(6) at the highest 21-bit LBA of a small LU is out of range', async () => {
      const lu = makeLu();
      expectCheck(await run(lu, [0x08, 0x1f, 0xff, 0xff, 1, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 0x1fffffn });
    });
  });

  describe('TRANSFER LENGTH 0 (SBC-4: not an error, nothing transferred)', () => {
    it('READ(10/12/16) and WRITE(10/16) of 0 blocks are GOOD without data', async () => {
      const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
      const lu = makeLu({ backstore: rec });
      for (const cdb of [
        [0x28, 0, ...be(10, 4), 0, 0, 0, 0],
        [0xa8, 0, ...be(10, 4), ...be(0, 4), 0, 0],
        [0x88, 0, ...be(10, 8), ...be(0, 4), 0, 0],
        [0x2a, 0, ...be(10, 4), 0, 0, 0, 0],
        [0x8a, 0, ...be(10, 8), ...be(0, 4), 0, 0],
      ]) {
        const o = await run(lu, cdb, cdb[0] === 0x2a || cdb[0] === 0x8a ? new Uint8Array(0) : undefined);
        expectGood(o);
        expect(o.data).to.equal(undefined);
      }
      expect(rec.calls).to.deep.equal([]);
    });

    it('0 blocks at LBA == capacity passes; at capacity + 1 it is out of range', async () => {
      const lu = makeLu();
      expectGood(await run(lu, [0x28, 0, ...be(2048, 4), 0, 0, 0, 0]));
      expectCheck(await run(lu, [0x28, 0, ...be(2049, 4), 0, 0, 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2049n });
    });
  });

  it('FUA reaches the backstore (WRITE(10) byte 1 bit 3), and its absence too', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, [0x2a, 0x08, ...be(3, 4), 0, 0, 1, 0], blocksOf(512, 1)));
    expectGood(await run(lu, [0x2a, 0x00, ...be(4, 4), 0, 0, 1, 0], blocksOf(512, 2)));
    expectGood(await run(lu, [0x8a, 0x08, ...be(5, 8), ...be(1, 4), 0, 0], blocksOf(512, 3)));
    expectGood(await run(lu, [0xaa, 0x18, ...be(6, 4), ...be(1, 4), 0, 0], blocksOf(512, 4)));
    expect(rec.calls).to.deep.equal(['write 1536+512 fua', 'write 2048+512', 'write 2560+512 fua', 'write 3072+512 fua']);
  });

  it('RDPROTECT / WRPROTECT set (no protection information) is INVALID FIELD IN CDB at byte 1', async () => {
    const lu = makeLu();
    expectCheck(await run(lu, [0x28, 0x20, ...be(0, 4), 0, 0, 1, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 5, cd: true });
    expectCheck(await run(lu, [0x8a, 0xe0, ...be(0, 8), ...be(1, 4), 0, 0], blocksOf(512, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 7 });
  });

  it('a TRANSFER LENGTH above MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at the length field', async () => {
    // 32 MiB / 512 = 65536 blocks is the maximum; the LU must be big enough for the range check to pass
    const lu = makeLu({ blocks: 70000n });
    expectGood(await run(lu, [0x88, 0, ...be(0, 8), ...be(65536, 4), 0, 0]));
    expectCheck(await run(lu, [0x88, 0, ...be(0, 8), ...be(65537, 4), 0, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 10 });
    expectCheck(await run(lu, [0xa8, 0, ...be(0, 4), ...be(65537, 4), 0, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 6 });
    // 4096-byte blocks: 32 MiB / 4096 = 8192
    const lu4k = makeLu({ blocks: 9000n, blockSize: 4096 });
    expectGood(await run(lu4k, [0x28, 0, ...be(0, 4), 0, ...be(8192, 2), 0]));
    expectCheck(await run(lu4k, [0x28, 0, ...be(0, 4), 0, ...be(8193, 2), 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
  });

  it('writes to different 4096-byte LUs land at LBA × block size', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 64n * 4096n }));
    const lu = makeLu({ blocks: 64n, blockSize: 4096, backstore: rec });
    expectGood(await run(lu, [0x2a, 0, ...be(7, 4), 0, 0, 1, 0], blocksOf(4096, 7)));
    expect(rec.calls).to.deep.equal(['write 28672+4096']);
  });
});
