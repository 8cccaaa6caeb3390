import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackstore } from '../../../../src/engine/backstores/file';
import { MemoryBackstore, MEMORY_CHUNK_BYTES } from '../../../../src/engine/backstores/memory';
import { FALLBACK_THIN_OPS } from '../../../../src/engine/backstores/thin-ops';
import { SENSE } from '../../../../src/engine/spec/asc';
import { Backstore, LuView } from '../../../../src/engine/types';
import { RecordingBackstore, be, blocksOf, expectCheck, expectGood, makeLu, run } from './fixture';
import { itNeeds, NATIVE_ADDON } from '../../../helpers/prereq';

/** UNMAP parameter list built by hand: header (UNMAP DATA LENGTH, DESCRIPTOR DATA LENGTH) + descriptors. */
function unmapList(descs: Array<[number | bigint, number]>, over?: { dataLength?: number; descLength?: number }): Buffer {
  const descLength = over?.descLength ?? descs.length * 16;
  const bytes = [...be(over?.dataLength ?? descLength + 6, 2), ...be(descLength, 2), 0, 0, 0, 0];
  for (const [lba, n] of descs) bytes.push(...be(lba, 8), ...be(n, 4), 0, 0, 0, 0);
  return Buffer.from(bytes);
}
const unmapCdb = (len: number) => [0x42, 0, 0, 0, 0, 0, 0, ...be(len, 2), 0];
const getLbaStatus = (lba: number | bigint, alloc: number) => [0x9e, 0x12, ...be(lba, 8), ...be(alloc, 4), 0, 0];

/** Descriptors of a GET LBA STATUS answer, decoded by hand. */
function descriptors(d: Uint8Array): Array<[bigint, number, number]> {
  const b = Buffer.from(d);
  const total = b.readUInt32BE(0) + 4;
  const out: Array<[bigint, number, number]> = [];
  for (let at = 8; at + 16 <= Math.min(total, b.length); at += 16) out.push([b.readBigUInt64BE(at), b.readUInt32BE(at + 8), b[at + 12] & 0x0f]);
  return out;
}

describe('SBC WRITE SAME', () => {
  it('WRITE SAME(10) replicates one block over the range', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x41, 0, ...be(30, 4), 0, 0, 4, 0], blocksOf(512, 0x6b)));
    const o = await run(lu, [0x28, 0, ...be(29, 4), 0, 0, 6, 0]);
    expect(Buffer.from(o.data!).equals(blocksOf(512, 0, 0x6b, 0x6b, 0x6b, 0x6b, 0))).to.equal(true);
  });

  it('WRITE SAME(16) NDOB writes zeros with no Data-Out', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x2a, 0, ...be(40, 4), 0, 0, 2, 0], blocksOf(512, 9, 9)));
    expectGood(await run(lu, [0x93, 0x01, ...be(40, 8), ...be(2, 4), 0, 0], new Uint8Array(0)));
    expect(Buffer.from((await run(lu, [0x28, 0, ...be(40, 4), 0, 0, 2, 0])).data!).equals(Buffer.alloc(1024))).to.equal(true);
  });

  it('UNMAP bit on a thick LU is INVALID FIELD IN CDB (byte 1 bit 3)', async () => {
    const lu = makeLu({ thin: false });
    expectCheck(await run(lu, [0x93, 0x08, ...be(0, 8), ...be(1, 4), 0, 0], blocksOf(512, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 3 });
    expectCheck(await run(lu, [0x41, 0x08, ...be(0, 4), 0, 0, 1, 0], blocksOf(512, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 3 });
  });

  it('UNMAP bit deallocates on a thin LU, whatever the Data-Out block holds (SBC-4: UNMAP 1, ANCHOR 0)', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, [0x93, 0x08, ...be(8, 8), ...be(8, 4), 0, 0], blocksOf(512, 0)));
    expectGood(await run(lu, [0x93, 0x09, ...be(16, 8), ...be(8, 4), 0, 0], new Uint8Array(0))); // NDOB + UNMAP
    expectGood(await run(lu, [0x2a, 0, ...be(24, 4), 0, 0, 2, 0], blocksOf(512, 0xff, 0xff)));
    expectGood(await run(lu, [0x41, 0x08, ...be(24, 4), 0, 0, 2, 0], blocksOf(512, 0xff)));
    expect(rec.calls).to.deep.equal(['unmap 4096+4096', 'unmap 8192+4096', 'write 12288+1024', 'unmap 12288+1024']);
    const o = await run(lu, [0x28, 0, ...be(24, 4), 0, 0, 2, 0]);
    expect(Buffer.from(o.data!).equals(Buffer.alloc(1024))).to.equal(true); // LBPRZ: zeros
  });

  it('ANCHOR is not supported: INVALID FIELD IN CDB at byte 1 bit 4', async () => {
    const lu = makeLu();
    expectCheck(await run(lu, [0x93, 0x18, ...be(0, 8), ...be(1, 4), 0, 0], blocksOf(512, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 4 });
  });

  it('NUMBER OF LOGICAL BLOCKS 0 (WSNZ = 0) writes from the LBA through the last LBA', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x41, 0, ...be(2045, 4), 0, 0, 0, 0], blocksOf(512, 0x3c)));
    const o = await run(lu, [0x28, 0, ...be(2044, 4), 0, 0, 4, 0]);
    expect(Buffer.from(o.data!).equals(blocksOf(512, 0, 0x3c, 0x3c, 0x3c))).to.equal(true);
    // WRITE SAME(16) with UNMAP and 0 blocks deallocates to the end
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    expectGood(await run(makeLu({ backstore: rec }), [0x93, 0x08, ...be(2040, 8), ...be(0, 4), 0, 0], blocksOf(512, 0)));
    expect(rec.calls).to.deep.equal(['unmap 1044480+4096']);
  });

  it('NUMBER OF LOGICAL BLOCKS 0: an LBA past the last is LBA OUT OF RANGE, the rest above the maximum is INVALID FIELD IN CDB', async () => {
    expectCheck(await run(makeLu(), [0x41, 0, ...be(2049, 4), 0, 0, 0, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 2049n });
    expectCheck(await run(makeLu(), [0x93, 0, ...be(2048, 8), ...be(0, 4), 0, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
    expectCheck(await run(makeLu(), [0x41, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 0xffffffffn });
    // 2097153 blocks from LBA 0 is one more than MAXIMUM WRITE SAME LENGTH (1 GiB / 512)
    const big = makeLu({ blocks: 2097153n, backstore: new MemoryBackstore({ sizeBytes: 2097153n * 512n, thin: true }) });
    expectCheck(await run(big, [0x93, 0, ...be(0, 8), ...be(0, 4), 0, 0], blocksOf(512, 1)), SENSE.INVALID_FIELD_IN_CDB, { byte: 10 });
  });

  it('above MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB', async () => {
    const lu = makeLu({ blocks: 4n * 1024n * 1024n });
    // 1 GiB / 512 = 2097152 blocks is the maximum
    expectCheck(await run(lu, [0x93, 0, ...be(0, 8), ...be(2097153, 4), 0, 0], blocksOf(512, 1)), SENSE.INVALID_FIELD_IN_CDB, { byte: 10 });
  });

  it('range checks: last block accepted, one past refused', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x41, 0, ...be(2047, 4), 0, 0, 1, 0], blocksOf(512, 1)));
    expectCheck(await run(lu, [0x41, 0, ...be(2047, 4), 0, 0, 2, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
    expectCheck(await run(lu, [0x93, 0, ...be(1n << 32n, 8), ...be(1, 4), 0, 0], blocksOf(512, 1)), SENSE.LBA_OUT_OF_RANGE, { information: 1n << 32n });
  });
});

describe('SBC UNMAP parameter list checks', () => {
  it('PARAMETER LIST LENGTH 0 is GOOD; 1..7 is PARAMETER LIST LENGTH ERROR', async () => {
    const lu = makeLu();
    expectGood(await run(lu, unmapCdb(0), new Uint8Array(0)));
    expectCheck(await run(lu, unmapCdb(7), Buffer.alloc(7)), SENSE.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('a DESCRIPTOR DATA LENGTH beyond the list is PARAMETER LIST LENGTH ERROR', async () => {
    const lu = makeLu();
    const p = unmapList([[0, 1]], { descLength: 32, dataLength: 38 });
    expectCheck(await run(lu, unmapCdb(p.length), p), SENSE.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('an UNMAP DATA LENGTH too short for the descriptors is INVALID FIELD IN PARAMETER LIST at byte 0', async () => {
    const lu = makeLu();
    const p = unmapList([[0, 1]], { dataLength: 6 });
    expectCheck(await run(lu, unmapCdb(p.length), p), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 0, cd: false });
  });

  it('a descriptor past the last LBA is LBA OUT OF RANGE with its LBA, and nothing is unmapped', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    const p = unmapList([[0, 8], [2047, 2]]);
    expectCheck(await run(lu, unmapCdb(p.length), p), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
    expect(rec.calls).to.deep.equal([]);
    const q = unmapList([[2047, 1], [5, 0]]); // last block, and a zero-length descriptor (not an error)
    expectGood(await run(lu, unmapCdb(q.length), q));
    expect(rec.calls).to.deep.equal(['unmap 1048064+512']);
  });

  it('more blocks than MAXIMUM UNMAP LBA COUNT is INVALID FIELD IN PARAMETER LIST at the descriptor', async () => {
    const lu = makeLu({ blocks: 8n * 1024n * 1024n });
    // 512 MiB / 512 = 1048576 blocks in total may be unmapped at once
    const p = unmapList([[0, 1048576], [3000000, 1]]);
    expectCheck(await run(lu, unmapCdb(p.length), p), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 8 + 16 + 8, cd: false });
  });

  it('MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (4095) is what a 16-bit parameter list holds: all accepted', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    const descs: Array<[number, number]> = [];
    for (let i = 0; i < 4095; i++) descs.push([i % 2048, i === 4094 ? 1 : 0]);
    const p = unmapList(descs);
    expect(p.length).to.equal(65528);
    expectGood(await run(lu, unmapCdb(p.length), p));
    expect(rec.calls).to.deep.equal([`unmap ${(4094 % 2048) * 512}+512`]);
  });

  it('an incomplete last descriptor is ignored', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    const full = unmapList([[4, 1], [9999, 1]]);
    const p = Buffer.concat([full.subarray(0, 8 + 16 + 10)]);
    p.writeUInt16BE(16 + 10, 2); // descriptor data length 26: one whole descriptor and 10 bytes
    p.writeUInt16BE(26 + 6, 0);
    expectGood(await run(lu, unmapCdb(p.length), p));
    expect(rec.calls).to.deep.equal(['unmap 2048+512']);
  });

  it('UNMAP on a fully provisioned LU is INVALID COMMAND OPERATION CODE (LBPU = 0)', async () => {
    const lu = makeLu({ thin: false });
    const p = unmapList([[0, 1]]);
    expectCheck(await run(lu, unmapCdb(p.length), p), SENSE.INVALID_COMMAND_OPERATION_CODE);
  });

  it('ANCHOR is not supported: INVALID FIELD IN CDB at byte 1 bit 0', async () => {
    const lu = makeLu();
    expectCheck(await run(lu, [0x42, 0x01, 0, 0, 0, 0, 0, 0, 0, 0], new Uint8Array(0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 0 });
  });
});

/** UNMAP then GET LBA STATUS over a backstore, with `gran` bytes as its deallocation granule. */
async function unmapAndStatus(lu: LuView, gran: number): Promise<void> {
  const bs = lu.blockSize;
  const g = gran / bs; // blocks per granule
  // write granules 0..3, then unmap granules 1..2
  const data = Buffer.alloc(4 * gran, 0x5c);
  for (let i = 0; i < 4; i++) {
    expectGood(await run(lu, [0x8a, 0, ...be(i * g, 8), ...be(g, 4), 0, 0], data.subarray(i * gran, (i + 1) * gran)));
  }
  const p = unmapList([[g, 2 * g]]);
  expectGood(await run(lu, unmapCdb(p.length), p));
  // reads of unmapped blocks return zeros (LBPRZ)
  const z = await run(lu, [0x88, 0, ...be(g, 8), ...be(1, 4), 0, 0]);
  expect(Buffer.from(z.data!).equals(Buffer.alloc(bs))).to.equal(true);
  const o = await run(lu, getLbaStatus(0, 8 + 16 * 8));
  expectGood(o);
  const d = descriptors(o.data!);
  expect(d.slice(0, 3)).to.deep.equal([[0n, g, 0], [BigInt(g), 2 * g, 1], [BigInt(3 * g), g, 0]]);
  // a later start LBA begins inside the hole
  const mid = descriptors((await run(lu, getLbaStatus(g + 1, 24))).data!);
  expect(mid).to.deep.equal([[BigInt(g + 1), 2 * g - 1, 1]]);
}

describe('SBC GET LBA STATUS', () => {
  it('memory backstore: unmapped chunks report DEALLOCATED, written ones MAPPED', async () => {
    await unmapAndStatus(makeLu({ blocks: 8n * 2048n }), MEMORY_CHUNK_BYTES);
  });

  it('STARTING LBA past the last LBA is LBA OUT OF RANGE; the last LBA answers one descriptor', async () => {
    const lu = makeLu();
    expectCheck(await run(lu, getLbaStatus(2048, 24)), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
    expectCheck(await run(lu, getLbaStatus((1n << 64n) - 1n, 24)), SENSE.LBA_OUT_OF_RANGE, { information: (1n << 64n) - 1n });
    expect(descriptors((await run(lu, getLbaStatus(2047, 24))).data!)).to.deep.equal([[2047n, 1, 1]]);
  });

  it('the header counts the descriptors (PARAMETER DATA LENGTH = 4 + 16 n)', async () => {
    const lu = makeLu();
    const o = await run(lu, getLbaStatus(0, 1000));
    const b = Buffer.from(o.data!);
    expect(b.length).to.equal(24);
    expect([...b.subarray(0, 8)]).to.deep.equal([0, 0, 0, 20, 0, 0, 0, 0]);
    expect([...b.subarray(8)]).to.deep.equal([...be(0, 8), ...be(2048, 4), 1, 0, 0, 0]);
  });

  describe('file backstore', () => {
    let dir: string;
    before(async () => { dir = await mkdtemp(join(tmpdir(), 'nexus-sbc-')); });
    after(async () => { await rm(dir, { recursive: true, force: true }); });

    async function fileLu(name: string, thinOps?: typeof FALLBACK_THIN_OPS): Promise<{ lu: LuView; store: Backstore }> {
      const store = await FileBackstore.open({ path: join(dir, name), sizeBytes: 4n << 20n, thin: true, thinOps });
      return { lu: makeLu({ blocks: (4n << 20n) / 512n, backstore: store }), store };
    }

    itNeeds(NATIVE_ADDON)('with the native addon: holes punched and reported (64 KiB granules)', async () => {
      const { lu, store } = await fileLu('native.img');
      try { await unmapAndStatus(lu, 64 * 1024); } finally { await store.close(); }
    });

    it('with the fallback: zeros written, everything reported mapped', async () => {
      const { lu, store } = await fileLu('fallback.img', FALLBACK_THIN_OPS);
      try {
        const p = unmapList([[8, 8]]);
        expectGood(await run(lu, [0x8a, 0, ...be(8, 8), ...be(8, 4), 0, 0], Buffer.alloc(4096, 0x33)));
        expectGood(await run(lu, unmapCdb(p.length), p));
        const z = await run(lu, [0x88, 0, ...be(8, 8), ...be(8, 4), 0, 0]);
        expect(Buffer.from(z.data!).equals(Buffer.alloc(4096))).to.equal(true);
        expect(descriptors((await run(lu, getLbaStatus(0, 24))).data!)).to.deep.equal([[0n, 8192, 0]]);
      } finally { await store.close(); }
    });
  });
});
