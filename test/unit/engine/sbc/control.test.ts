import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackstore } from '../../../../src/engine/backstores/file';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { NullBackstore } from '../../../../src/engine/backstores/null';
import { SENSE } from '../../../../src/engine/spec/asc';
import { Status } from '../../../../src/engine/spec/status';
import { FailingBackstore, RecordingBackstore, be, blocksOf, expectCheck, expectGood, makeLu, makeNexus, run } from './fixture';

describe('SBC READ CAPACITY', () => {
  it('(10): last LBA and block length', async () => {
    const o = await run(makeLu({ blocks: 2048n, blockSize: 4096 }), [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...o.data!]).to.deep.equal([0, 0, 0x07, 0xff, 0, 0, 0x10, 0x00]);
  });

  it('(10): a capacity beyond 2^32 blocks saturates at FFFFFFFFh', async () => {
    const lu = makeLu({ blocks: 1n << 40n, backstore: new NullBackstore({ sizeBytes: (1n << 40n) * 512n }) });
    const o = await run(lu, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...o.data!]).to.deep.equal([0xff, 0xff, 0xff, 0xff, 0, 0, 0x02, 0x00]);
  });

  it('(16): thin LU with 4096-byte physical blocks over 512-byte logical ones', async () => {
    const lu = makeLu({ blocks: (1n << 33n) + 5n, thin: true, physicalExponent: 3,
      backstore: new NullBackstore({ sizeBytes: ((1n << 33n) + 5n) * 512n, thin: true }) });
    const o = await run(lu, [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    expect([...o.data!]).to.deep.equal([
      0, 0, 0, 0x02, 0, 0, 0, 0x04, // RETURNED LOGICAL BLOCK ADDRESS = 2^33 + 4
      0, 0, 0x02, 0x00, // 512
      0x10, // RC BASIS 01b
      0x03, // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT
      0xc0, 0x00, // LBPME, LBPRZ, LOWEST ALIGNED LBA 0
      ...new Array(16).fill(0),
    ]);
  });

  it('(16): thick LU has LBPME = LBPRZ = 0', async () => {
    const o = await run(makeLu({ thin: false }), [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    expect(o.data![14]).to.equal(0);
    expect(Buffer.from(o.data!).readBigUInt64BE(0)).to.equal(2047n);
  });
});

describe('SBC PRE-FETCH and SYNCHRONIZE CACHE', () => {
  it('PRE-FETCH on a memory LU is CONDITION MET; out of range is LBA OUT OF RANGE', async () => {
    const lu = makeLu();
    expect((await run(lu, [0x34, 0, ...be(0, 4), 0, 0, 8, 0])).status).to.equal(Status.CONDITION_MET);
    expect((await run(lu, [0x90, 0x02, ...be(0, 8), ...be(0, 4), 0, 0])).status).to.equal(Status.CONDITION_MET);
    expectCheck(await run(lu, [0x34, 0, ...be(2047, 4), 0, 0, 2, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2047n });
  });

  it('SYNCHRONIZE CACHE flushes; NUMBER OF BLOCKS 0 means to the end; ranges are checked', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, [0x35, 0, ...be(0, 4), 0, 0, 0, 0]));
    expectGood(await run(lu, [0x91, 0, ...be(2047, 8), ...be(1, 4), 0, 0]));
    expect(rec.calls).to.deep.equal(['flush', 'flush']);
    expectCheck(await run(lu, [0x35, 0, ...be(2048, 4), 0, 0, 1, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2048n });
    expectCheck(await run(lu, [0x91, 0, ...be(2049, 8), ...be(0, 4), 0, 0]), SENSE.LBA_OUT_OF_RANGE, { information: 2049n });
    expect(rec.calls).to.deep.equal(['flush', 'flush']);
  });

  it('a failing flush maps through senseFromErrno (EIO on flush → WRITE ERROR)', async () => {
    const lu = makeLu({ backstore: new FailingBackstore(2048n * 512n, 'EIO') });
    expectCheck(await run(lu, [0x35, 0, ...be(0, 4), 0, 0, 0, 0]), SENSE.WRITE_ERROR);
  });
});

describe('SBC START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL', () => {
  it('START 0 stops (after a flush), START 1 starts', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: 2048n * 512n }));
    const lu = makeLu({ backstore: rec });
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x00, 0]));
    expect(lu.stopped).to.equal(true);
    expect(rec.calls).to.deep.equal(['flush']);
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x01, 0]));
    expect(lu.stopped).to.equal(false);
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x04, 0])); // NO_FLUSH
    expect(lu.stopped).to.equal(true);
    expect(rec.calls).to.deep.equal(['flush']);
  });

  it('LOEJ on a non-removable disk is INVALID FIELD IN CDB (byte 4 bit 1)', async () => {
    const lu = makeLu();
    expectCheck(await run(lu, [0x1b, 0, 0, 0, 0x02, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 4, bit: 1 });
    expect(lu.stopped).to.equal(false);
  });

  it('eject of a removable unit while removal is prevented is MEDIUM REMOVAL PREVENTED', async () => {
    const lu = makeLu({ removable: true });
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x01, 0], undefined, makeNexus(4)));
    expectCheck(await run(lu, [0x1b, 0, 0, 0, 0x02, 0]), SENSE.MEDIUM_REMOVAL_PREVENTED);
    expect(lu.mediumPresent).to.equal(true);
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x00, 0], undefined, makeNexus(4)));
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x02, 0]));
    expect(lu.mediumPresent).to.equal(false);
  });

  it('removable: LOEJ START 0 ejects, a prevented load is refused, LOEJ START 1 loads and tells the others', async () => {
    const raised: Array<[string, number | undefined]> = [];
    const lu = { ...makeLu({ removable: true }), raiseUa: (c: { name: string }, except?: number) => { raised.push([c.name, except]); } };
    expectGood(await run(lu, [0x1b, 0x01, 0, 0, 0x02, 0])); // IMMED, eject
    expect(lu.mediumPresent).to.equal(false);
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x01, 0], undefined, makeNexus(2)));
    expectCheck(await run(lu, [0x1b, 0, 0, 0, 0x03, 0]), SENSE.MEDIUM_REMOVAL_PREVENTED);
    expect(lu.mediumPresent).to.equal(false);
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x00, 0], undefined, makeNexus(2)));
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x03, 0], undefined, makeNexus(7)));
    expect(lu.mediumPresent).to.equal(true);
    expect(lu.stopped).to.equal(false);
    expect(raised).to.deep.equal([['NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED', 7]]);
  });

  it('removable: STOP without LOEJ keeps the medium ready; every power condition is accepted and ejects nothing', async () => {
    const lu = makeLu({ removable: true });
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x00, 0]));
    expect(lu.stopped).to.equal(false);
    for (const pc of [0x1, 0x4, 0x5, 0x6, 0x8, 0xf]) {
      expectGood(await run(lu, [0x1b, 0x01, 0, 0, (pc << 4) | 0x02, 0]));
      expect(lu.mediumPresent, `PC ${pc}`).to.equal(true);
    }
  });

  it('a power condition leaves START/LOEJ alone; a reserved one is INVALID FIELD IN CDB', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x1b, 0, 0, 0, 0x30, 0])); // STANDBY, START 0 ignored
    expect(lu.stopped).to.equal(false);
    expectCheck(await run(lu, [0x1b, 0, 0, 0, 0x50, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 4, bit: 7 });
  });

  it('PREVENT is held per I_T nexus', async () => {
    const lu = makeLu();
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x01, 0], undefined, makeNexus(1)));
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x01, 0], undefined, makeNexus(2)));
    expectGood(await run(lu, [0x1e, 0, 0, 0, 0x00, 0], undefined, makeNexus(1)));
    expect([...lu.preventRemoval]).to.deep.equal([2]);
    expectCheck(await run(lu, [0x1e, 0, 0, 0, 0x02, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 4, bit: 1 });
  });
});

describe('SBC READ DEFECT DATA', () => {
  it('(10): header only, the requested lists valid and empty, in the requested format', async () => {
    const o = await run(makeLu(), [0x37, 0, 0x1d, 0, 0, 0, 0, 0, 4, 0]); // PLIST+GLIST, format 101b
    expect([...o.data!]).to.deep.equal([0, 0x1d, 0, 0]);
  });

  it('(12): 8-byte header with a zero list length', async () => {
    const o = await run(makeLu(), [0xb7, 0x0b, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]); // GLIST, long block format
    expect([...o.data!]).to.deep.equal([0, 0x0b, 0, 0, 0, 0, 0, 0]);
  });
});

describe('SBC backstore errors (senseFromErrno)', () => {
  const cases: Array<[string, string, string]> = [
    ['EIO', 'UNRECOVERED READ ERROR', 'WRITE ERROR'],
    ['ENOSPC', 'SPACE ALLOCATION FAILED WRITE PROTECT', 'SPACE ALLOCATION FAILED WRITE PROTECT'],
    ['EROFS', 'WRITE PROTECTED', 'WRITE PROTECTED'],
    ['EBADF', 'INTERNAL TARGET FAILURE', 'INTERNAL TARGET FAILURE'],
  ];
  for (const [code, onRead, onWrite] of cases) {
    it(`${code}: READ → ${onRead}, WRITE → ${onWrite}`, async () => {
      const lu = makeLu({ backstore: new FailingBackstore(2048n * 512n, code) });
      const r = await run(lu, [0x28, 0, ...be(0, 4), 0, 0, 1, 0]);
      const w = await run(lu, [0x2a, 0, ...be(0, 4), 0, 0, 1, 0], blocksOf(512, 1));
      expect(r.status).to.equal(Status.CHECK_CONDITION);
      expect(w.status).to.equal(Status.CHECK_CONDITION);
      expect(r.sense!.cond.name).to.equal(onRead);
      expect(w.sense!.cond.name).to.equal(onWrite);
    });
  }

  it('a COMPARE AND WRITE whose read fails with EIO is a read error, not a write error', async () => {
    const lu = makeLu({ backstore: new FailingBackstore(2048n * 512n, 'EIO') });
    expectCheck(await run(lu, [0x89, 0, ...be(0, 8), 0, 0, 0, 1, 0, 0], Buffer.alloc(1024)), SENSE.UNRECOVERED_READ_ERROR);
  });
});

describe('SBC PRE-FETCH on a file LU', () => {
  it('reads the range through the page cache and answers CONDITION MET when it fits, GOOD when it does not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nexus-pf-'));
    const store = await FileBackstore.open({ path: join(dir, 'p.img'), sizeBytes: 64n << 20n });
    try {
      const rec = new RecordingBackstore(store);
      const lu = makeLu({ blocks: (64n << 20n) / 512n, backstore: rec });
      expect((await run(lu, [0x34, 0, ...be(0, 4), 0, 0, 16, 0])).status).to.equal(Status.CONDITION_MET);
      expect(rec.calls).to.deep.equal(['read 0+8192']);
      // 0 = to the end: 64 MiB does not fit the 32 MiB allowance
      expect((await run(lu, [0x90, 0, ...be(0, 8), ...be(0, 4), 0, 0])).status).to.equal(Status.GOOD);
      expect(rec.calls.length).to.equal(1 + 32);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
