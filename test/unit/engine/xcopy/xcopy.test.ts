import { expect } from 'chai';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { CdbTable } from '../../../../src/engine/cdb/registry';
import { Outcome } from '../../../../src/engine/result';
import { SENSE } from '../../../../src/engine/spec/asc';
import { Status } from '../../../../src/engine/spec/status';
import { Exec, LuView, NexusView } from '../../../../src/engine/types';
import { xcopyBindings } from '../../../../src/engine/xcopy';
import { FailingBackstore, be, expectCheck, expectGood, makeLu, makeNexus } from '../sbc/fixture';

/**
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18). Parameter lists are written
 * out byte by byte here, after SPC-4 tables 127 (header), 131 (identification CSCD descriptor)
 * and 139 (block device to block device segment descriptor).
 */

const table = new CdbTable(xcopyBindings.map(b => b.def));
const execs = new Map(xcopyBindings.map(b => [b.def, b.exec] as const));

async function run(lu: LuView, cdb: number[], dataOut?: Uint8Array, o: { nexus?: NexusView; readOnly?: boolean } = {}): Promise<Outcome> {
  const c = Uint8Array.from(cdb);
  const dec = table.decode(c);
  if (!dec.ok) return dec.outcome;
  const xferBytes = dec.def.xferBytes(dec.f, lu.blockSize);
  const exec = execs.get(dec.def) as Exec;
  return exec({ cdb: c, def: dec.def, f: dec.f, lu, nexus: o.nexus ?? makeNexus(), lun: 0, readOnly: o.readOnly ?? false, dataOut, xferBytes });
}

const NAA_A = [0x60, 0x01, 0x40, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const NAA_B = [0x60, 0x01, 0x40, 0x52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

function lu(naa: number[], name = 'lu0', blocks = 2048n): LuView {
  const base = makeLu({ blocks, backstore: new MemoryBackstore({ sizeBytes: blocks * 512n, thin: true }) });
  return { ...base, name, identity: { ...base.identity, naa: Buffer.from(naa) } };
}

/** Identification CSCD descriptor (E4h), block device, NAA designator, DISK BLOCK LENGTH. */
function target(naa: number[], opts: { type?: number; blockLength?: number } = {}): number[] {
  return [
    opts.type ?? 0xe4, 0x00, 0x00, 0x00, // type, LU ID TYPE/NUL/PERIPHERAL DEVICE TYPE 0, RELATIVE INITIATOR PORT 0
    0x01, 0x03, 0x00, 0x10, ...naa, // binary code set, LU association, NAA, length 16, designator
    0x00, 0x00, 0x00, 0x00, // designator bytes 20..23 unused
    0x00, ...be(opts.blockLength ?? 512, 3), // PAD 0, DISK BLOCK LENGTH
  ];
}

/** Block to block segment descriptor (02h), DESCRIPTOR LENGTH 0018h. */
function segment(src: number, dst: number, blocks: number, srcLba: number, dstLba: number, type = 0x02): number[] {
  return [type, 0x00, 0x00, 0x18, ...be(src, 2), ...be(dst, 2), 0, 0, ...be(blocks, 2), ...be(srcLba, 8), ...be(dstLba, 8)];
}

function list(listId: number, usage: number, targets: number[][], segments: number[][]): Uint8Array {
  const t = targets.flat(), s = segments.flat();
  return Uint8Array.from([listId, usage << 3, ...be(t.length, 2), 0, 0, 0, 0, ...be(s.length, 4), 0, 0, 0, 0, ...t, ...s]);
}

const xcopy = (len: number) => [0x83, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, ...be(len, 4), 0, 0];
const copyStatus = (listId: number) => [0x84, 0x00, listId, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0];
const HOLD = 0b00, NO_HOLD = 0b10;

async function fill(u: LuView, lba: number, blocks: number, byte: number): Promise<void> {
  await u.backstore.write(lba * 512, Buffer.alloc(blocks * 512, byte), false);
}
async function readBack(u: LuView, lba: number, blocks: number): Promise<Buffer> {
  const b = Buffer.alloc(blocks * 512);
  await u.backstore.read(lba * 512, b);
  return b;
}

describe('EXTENDED COPY (LID1)', () => {
  it('copies blocks within the unit that received the command', async () => {
    const a = lu(NAA_A);
    await fill(a, 0, 4, 0x41);
    const pl = list(1, NO_HOLD, [target(NAA_A)], [segment(0, 0, 4, 0, 2040)]);
    expectGood(await run(a, xcopy(pl.length), pl));
    expect((await readBack(a, 2040, 4)).equals(Buffer.alloc(2048, 0x41))).to.equal(true);
  });

  it('copies between units found through copyTargets', async () => {
    const a = lu(NAA_A, 'a'), b = lu(NAA_B, 'b');
    a.copyTargets = naa => (Buffer.from(NAA_B).equals(Buffer.from(naa)) ? b : undefined);
    await fill(a, 10, 3, 0x5a);
    const pl = list(2, NO_HOLD, [target(NAA_A), target(NAA_B)], [segment(0, 1, 3, 10, 100)]);
    expectGood(await run(a, xcopy(pl.length), pl));
    expect((await readBack(b, 100, 3)).equals(Buffer.alloc(3 * 512, 0x5a))).to.equal(true);
    expect((await readBack(a, 100, 3)).equals(Buffer.alloc(3 * 512))).to.equal(true);
  });

  it('an overlapping copy to a later range of the same unit copies the original data', async () => {
    const a = lu(NAA_A, 'a', 8192n);
    // 3000 blocks (more than one 1 MiB chunk), each block filled with its LBA's low byte
    const src = Buffer.alloc(3000 * 512);
    for (let i = 0; i < 3000; i++) src.fill(i & 0xff, i * 512, (i + 1) * 512);
    await a.backstore.write(0, src, false);
    const pl = list(3, NO_HOLD, [target(NAA_A)], [segment(0, 0, 3000, 0, 1000)]);
    expectGood(await run(a, xcopy(pl.length), pl));
    expect((await readBack(a, 1000, 3000)).equals(src)).to.equal(true);
  });

  it('PARAMETER LIST LENGTH 0 is GOOD and copies nothing', async () => {
    expectGood(await run(lu(NAA_A), xcopy(0)));
  });

  it('descriptor lists cut short by the parameter list are PARAMETER LIST LENGTH ERROR', async () => {
    const a = lu(NAA_A);
    const pl = list(1, HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(47), pl.subarray(0, 47)), SENSE.PARAMETER_LIST_LENGTH_ERROR);
    expectCheck(await run(a, xcopy(pl.length - 1), pl.subarray(0, pl.length - 1)), SENSE.PARAMETER_LIST_LENGTH_ERROR);
    expectCheck(await run(a, xcopy(15), pl.subarray(0, 15)), SENSE.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('more descriptors than OPERATING PARAMETERS allows', async () => {
    const a = lu(NAA_A);
    const nine = list(1, HOLD, Array.from({ length: 9 }, () => target(NAA_A)), [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(nine.length), nine), SENSE.TOO_MANY_TARGET_DESCRIPTORS);
    const segs = list(2, HOLD, [target(NAA_A)], Array.from({ length: 65 }, () => segment(0, 0, 1, 0, 1)));
    expectCheck(await run(a, xcopy(segs.length), segs), SENSE.TOO_MANY_SEGMENT_DESCRIPTORS);
    // 9 × 32 + 65 × 28 = 2108 bytes of descriptors, over MAXIMUM DESCRIPTOR LIST LENGTH 2048
    const both = list(3, HOLD, Array.from({ length: 9 }, () => target(NAA_A)), Array.from({ length: 65 }, () => segment(0, 0, 1, 0, 1)));
    expectCheck(await run(a, xcopy(both.length), both), SENSE.PARAMETER_LIST_LENGTH_ERROR);
  });

  it('unsupported descriptor type codes, with the field pointer at the descriptor', async () => {
    const a = lu(NAA_A);
    const fc = list(1, HOLD, [target(NAA_A, { type: 0xe0 })], [segment(0, 0, 1, 0, 1)]);
    const o1 = await run(a, xcopy(fc.length), fc);
    expectCheck(o1, SENSE.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE, { byte: 16, cd: false });
    const stream = list(1, HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 1, 0x03)]);
    expectCheck(await run(a, xcopy(stream.length), stream), SENSE.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE, { byte: 48, cd: false });
  });

  it('LIST ID USAGE 01b is reserved; 11b needs LIST IDENTIFIER 0', async () => {
    const a = lu(NAA_A);
    const r = list(1, 0b01, [target(NAA_A)], [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(r.length), r), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 1, bit: 4, cd: false });
    const n = list(7, 0b11, [target(NAA_A)], [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(n.length), n), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 0, cd: false });
    const ok = list(0, 0b11, [target(NAA_A)], [segment(0, 0, 1, 0, 1)]);
    expectGood(await run(a, xcopy(ok.length), ok));
  });

  it('a DISK BLOCK LENGTH that is not the unit\'s is INVALID FIELD IN PARAMETER LIST at byte 29', async () => {
    const a = lu(NAA_A);
    const pl = list(1, HOLD, [target(NAA_A, { blockLength: 4096 })], [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(pl.length), pl), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 16 + 29 });
  });

  it('an unknown designator is COPY ABORTED, UNREACHABLE COPY TARGET', async () => {
    const a = lu(NAA_A);
    const pl = list(1, HOLD, [target(NAA_B)], [segment(0, 0, 1, 0, 1)]);
    const o = await run(a, xcopy(pl.length), pl);
    expectCheck(o, SENSE.UNREACHABLE_COPY_TARGET);
    expect(o.sense?.cond.key).to.equal(0x0a);
  });

  it('a segment naming a missing CSCD descriptor is COPY ABORTED with the segment number', async () => {
    const a = lu(NAA_A);
    const pl = list(1, NO_HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 1), segment(0, 1, 1, 0, 2)]);
    const o = await run(a, xcopy(pl.length), pl);
    expectCheck(o, SENSE.UNREACHABLE_COPY_TARGET);
    expect(o.sense?.commandSpecific).to.equal(1n);
  });

  it('a range past the last LBA is COPY ABORTED with that LBA in INFORMATION', async () => {
    const a = lu(NAA_A);
    const pl = list(1, NO_HOLD, [target(NAA_A)], [segment(0, 0, 2, 0, 2047)]);
    const o = await run(a, xcopy(pl.length), pl);
    expectCheck(o, SENSE.COPY_ABORTED, { information: 2047n });
    expect([o.sense?.cond.key, o.sense?.cond.asc, o.sense?.cond.ascq]).to.deep.equal([0x0a, 0x00, 0x00]);
  });

  it('a read-only destination is WRITE PROTECTED; a failing store maps its errno', async () => {
    const a = lu(NAA_A);
    const pl = list(1, NO_HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 1)]);
    expectCheck(await run(a, xcopy(pl.length), pl, { readOnly: true }), SENSE.WRITE_PROTECTED);
    const bad = { ...lu(NAA_A), backstore: new FailingBackstore(2048n * 512n, 'EIO') };
    expectCheck(await run(bad, xcopy(pl.length), pl), SENSE.UNRECOVERED_READ_ERROR);
  });
});

describe('RECEIVE COPY RESULTS', () => {
  it('OPERATING PARAMETERS reports the limits the parameter list checks enforce', async () => {
    const o = await run(lu(NAA_A), [0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0]);
    expect([...o.data!]).to.deep.equal([
      0, 0, 0, 42, // AVAILABLE DATA: 46 - 4
      0x01, 0, 0, 0, // SNLID
      0, 8, 0, 64, // MAXIMUM CSCD DESCRIPTOR COUNT 8, MAXIMUM SEGMENT DESCRIPTOR COUNT 64
      0, 0, 0x08, 0x00, // MAXIMUM DESCRIPTOR LIST LENGTH 2048
      0x0f, 0xff, 0xf0, 0x00, // MAXIMUM SEGMENT LENGTH 65535 × 4096
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // inline, held data, stream transfer: none
      0, 0, 0, 32, 8, // TOTAL CONCURRENT COPIES 32, MAXIMUM CONCURRENT COPIES 8
      9, 0, 0, // DATA SEGMENT GRANULARITY 2^9, inline and held granularity 0
      0, 0, 0, 2, 0x02, 0xe4, // IMPLEMENTED DESCRIPTOR LIST LENGTH 2: 02h, E4h
    ]);
  });

  it('a non-zero LIST IDENTIFIER with OPERATING PARAMETERS is INVALID FIELD IN CDB', async () => {
    expectCheck(await run(lu(NAA_A), [0x84, 0x03, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 2 });
  });

  it('COPY STATUS: unknown list, then a held completed copy reported once', async () => {
    const a = lu(NAA_A);
    expectCheck(await run(a, copyStatus(5)), SENSE.INVALID_FIELD_IN_CDB, { byte: 2, cd: true });
    const pl = list(5, HOLD, [target(NAA_A)], [segment(0, 0, 2, 0, 10), segment(0, 0, 1, 0, 20)]);
    expectGood(await run(a, xcopy(pl.length), pl));
    const o = await run(a, copyStatus(5));
    expect([...o.data!]).to.deep.equal([
      0, 0, 0, 8, // AVAILABLE DATA
      0x01, // HDD 0, COPY MANAGER STATUS: completed without errors
      0, 2, // SEGMENTS PROCESSED
      0x00, 0, 0, 0x06, 0x00, // TRANSFER COUNT UNITS bytes, TRANSFER COUNT 1536
    ]);
    expectCheck(await run(a, copyStatus(5)), SENSE.INVALID_FIELD_IN_CDB, { byte: 2 });
  });

  it('COPY STATUS of a failed copy counts the segments done; other nexuses and no-hold lists see nothing', async () => {
    const a = lu(NAA_A);
    const pl = list(6, HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 10), segment(0, 0, 4, 0, 2046)]);
    expect((await run(a, xcopy(pl.length), pl)).status).to.equal(Status.CHECK_CONDITION);
    expectCheck(await run(a, copyStatus(6), undefined, { nexus: makeNexus(2) }), SENSE.INVALID_FIELD_IN_CDB);
    const o = await run(a, copyStatus(6));
    expect([...o.data!]).to.deep.equal([0, 0, 0, 8, 0x02, 0, 1, 0x00, 0, 0, 0x02, 0x00]);
    const nh = list(7, NO_HOLD, [target(NAA_A)], [segment(0, 0, 1, 0, 10)]);
    expectGood(await run(a, xcopy(nh.length), nh));
    expectCheck(await run(a, copyStatus(7)), SENSE.INVALID_FIELD_IN_CDB);
  });
});
