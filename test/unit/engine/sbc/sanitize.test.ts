import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { FileBackstore } from '../../../../src/engine/backstores/file';
import { blockingTasksRun } from '../../../../src/engine/backstores/blocking-pool';
import { SENSE } from '../../../../src/engine/spec/asc';
import { buildVpdPage } from '../../../../src/engine/vpd';
import { Engine } from '../../../../src/engine/engine';
import type { Completion } from '../../../../src/engine/command';
import { RecordingBackstore, be, expectCheck, expectGood, makeLu, makeNexus, run, table } from './fixture';
import { sbcThickBindings } from '../../../../src/engine/sbc';

/** SBC-4 5.30 SANITIZE with hand-built CDBs and parameter lists. */

const BLOCKS = 64n;

function sanitizeCdb(sa: number, plen: number, immed = false, ause = false): number[] {
  return [0x48, (immed ? 0x80 : 0) | (ause ? 0x20 : 0) | sa, 0, 0, 0, 0, 0, ...be(plen, 2), 0];
}

/** OVERWRITE parameter list: byte 0 INVERT/OWCOUNT, bytes 2..3 pattern length, then the pattern. */
function overwriteList(count: number, pattern: number[], invert = false, ipl = pattern.length): Uint8Array {
  return Uint8Array.from([(invert ? 0x80 : 0) | count, 0, ...be(ipl, 2), ...pattern]);
}

async function readAll(lu: ReturnType<typeof makeLu>): Promise<Buffer> {
  const b = Buffer.alloc(Number(BLOCKS) * 512);
  await lu.backstore.read(0, b);
  return b;
}

describe('SBC SANITIZE', () => {
  it('OVERWRITE repeats the pattern over every block', async () => {
    const lu = makeLu({ blocks: BLOCKS });
    await lu.backstore.write(0, Buffer.alloc(Number(BLOCKS) * 512, 0x61), false);
    expectGood(await run(lu, sanitizeCdb(0x01, 7), overwriteList(1, [0xde, 0xad, 0xbe])));
    const all = await readAll(lu);
    expect([...all.subarray(0, 7)]).to.deep.equal([0xde, 0xad, 0xbe, 0xde, 0xad, 0xbe, 0xde]);
    // 512 = 3 * 170 + 2: the pattern restarts at each block.
    expect([...all.subarray(510, 515)]).to.deep.equal([0xde, 0xad, 0xde, 0xad, 0xbe]);
    expect([...all.subarray(all.length - 2)]).to.deep.equal([0xde, 0xad]);
    expect(lu.sanitizing).to.equal(false);
  });

  it('OVERWRITE of a file LUN runs as one fill task in the blocking pool, with the same result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-sanitize-'));
    const backstore = await FileBackstore.open({ path: join(dir, 'lu.img'), sizeBytes: BLOCKS * 512n });
    try {
      const lu = makeLu({ blocks: BLOCKS, backstore });
      await backstore.write(0, Buffer.alloc(Number(BLOCKS) * 512, 0x61), false);
      const before = blockingTasksRun();
      expectGood(await run(lu, sanitizeCdb(0x01, 7), overwriteList(1, [0xde, 0xad, 0xbe])));
      expect(blockingTasksRun()).to.equal(before + 2); // the fill, then the flush's fdatasync
      const all = await readAll(lu);
      expect([...all.subarray(0, 7)]).to.deep.equal([0xde, 0xad, 0xbe, 0xde, 0xad, 0xbe, 0xde]);
      expect([...all.subarray(510, 515)]).to.deep.equal([0xde, 0xad, 0xde, 0xad, 0xbe]);
      expect([...all.subarray(all.length - 2)]).to.deep.equal([0xde, 0xad]);
    } finally {
      await backstore.close();
    }
  });

  it('OVERWRITE with INVERT and an even count leaves the inverted pattern; odd leaves it as given', async () => {
    const lu = makeLu({ blocks: BLOCKS });
    expectGood(await run(lu, sanitizeCdb(0x01, 5), overwriteList(2, [0x0f], true)));
    expect((await readAll(lu)).every(x => x === 0xf0)).to.equal(true);
    expectGood(await run(lu, sanitizeCdb(0x01, 5), overwriteList(3, [0x0f], true)));
    expect((await readAll(lu)).every(x => x === 0x0f)).to.equal(true);
  });

  it('OVERWRITE parameter list checks', async () => {
    const lu = makeLu({ blocks: BLOCKS });
    // PARAMETER LIST LENGTH 0..4 and above block size + 4: INVALID FIELD IN CDB at byte 7.
    expectCheck(await run(lu, sanitizeCdb(0x01, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
    expectCheck(await run(lu, sanitizeCdb(0x01, 4), Uint8Array.from([1, 0, 0, 0])), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
    expectCheck(await run(lu, sanitizeCdb(0x01, 517), new Uint8Array(517)), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
    // OVERWRITE COUNT 0, pattern length 0 and pattern longer than a block: INVALID FIELD IN PARAMETER LIST.
    expectCheck(await run(lu, sanitizeCdb(0x01, 5), overwriteList(0, [1])), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 0, bit: 4 });
    expectCheck(await run(lu, sanitizeCdb(0x01, 5), overwriteList(1, [1], false, 0)), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 2 });
    const long = Uint8Array.from([1, 0, ...be(516, 2), ...new Array(512).fill(0)]);
    expectCheck(await run(lu, sanitizeCdb(0x01, 516), long), SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { byte: 2 });
  });

  it('BLOCK ERASE deallocates every block of a thin unit; a parameter list is refused', async () => {
    const rec = new RecordingBackstore(new MemoryBackstore({ sizeBytes: BLOCKS * 512n, thin: true }));
    const lu = makeLu({ blocks: BLOCKS, thin: true, backstore: rec });
    await lu.backstore.write(0, Buffer.alloc(Number(BLOCKS) * 512, 0x61), false);
    expectGood(await run(lu, sanitizeCdb(0x02, 0)));
    expect(rec.calls.slice(1)).to.deep.equal([`unmap 0+${Number(BLOCKS) * 512}`, 'flush']);
    expect((await readAll(lu)).every(x => x === 0)).to.equal(true);
    expectCheck(await run(lu, sanitizeCdb(0x02, 8), new Uint8Array(8)), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
  });

  it('CRYPTOGRAPHIC ERASE and unknown service actions are INVALID FIELD IN CDB at byte 1; reserved bit 6 too', async () => {
    const lu = makeLu({ blocks: BLOCKS });
    expectCheck(await run(lu, sanitizeCdb(0x03, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1 });
    expectCheck(await run(lu, sanitizeCdb(0x04, 0)), SENSE.INVALID_FIELD_IN_CDB, { byte: 1 });
    expectCheck(await run(lu, [0x48, 0x40 | 0x1f, 0, 0, 0, 0, 0, 0, 0, 0]), SENSE.INVALID_FIELD_IN_CDB, { byte: 1, bit: 6 });
  });

  it('EXIT FAILURE MODE is GOOD without a parameter list', async () => {
    const lu = makeLu({ blocks: BLOCKS });
    expectGood(await run(lu, sanitizeCdb(0x1f, 0, false, true)));
    expectCheck(await run(lu, sanitizeCdb(0x1f, 4), new Uint8Array(4)), SENSE.INVALID_FIELD_IN_CDB, { byte: 7 });
  });

  it('IMMED answers at once with the unit sanitizing until the overwrite ends', async () => {
    let open!: () => void;
    const gate = new Promise<void>(r => { open = r; });
    const lu = makeLu({ blocks: BLOCKS, backstore: new RecordingBackstore(new MemoryBackstore({ sizeBytes: BLOCKS * 512n }), () => gate) });
    expectGood(await run(lu, sanitizeCdb(0x01, 5, true), overwriteList(1, [0x55])));
    expect(lu.sanitizing).to.equal(true);
    open();
    for (let i = 0; i < 1000 && lu.sanitizing; i++) await new Promise(r => setImmediate(r));
    expect(lu.sanitizing).to.equal(false);
    expect((await readAll(lu)).every(x => x === 0x55)).to.equal(true);
  });

  it('SPC-4 4.5.2.4.4: an IMMED overwrite keeps its progress indication as each piece is written', async () => {
    // 4 MiB: four 1 MiB writes, each held until the test lets it through.
    const blocks = 8192n;
    const waiting: (() => void)[] = [];
    const gate = (): Promise<void> => new Promise<void>(r => { waiting.push(r); });
    const lu = makeLu({ blocks, backstore: new RecordingBackstore(new MemoryBackstore({ sizeBytes: blocks * 512n }), gate) });
    const settle = async (): Promise<void> => { for (let i = 0; i < 50; i++) await new Promise(r => setImmediate(r)); };
    expectGood(await run(lu, sanitizeCdb(0x01, 5, true), overwriteList(1, [0x55])));
    await settle();
    expect([lu.sanitizing, lu.sanitizeProgress]).to.deep.equal([true, 0]);
    waiting.shift()!();
    await settle();
    expect(lu.sanitizeProgress).to.equal(0x4000); // a quarter of 65536
    waiting.shift()!();
    await settle();
    waiting.shift()!();
    await settle();
    expect(lu.sanitizeProgress).to.equal(0xc000);
    waiting.shift()!();
    for (let i = 0; i < 1000 && lu.sanitizing; i++) await new Promise(r => setImmediate(r));
    expect([lu.sanitizing, lu.sanitizeProgress]).to.deep.equal([false, 0]);
  });

  it('a thick unit has no BLOCK ERASE row; WABEREQ is 01b only on thin units', async () => {
    expect(sbcThickBindings.some(b => b.def.op === 0x48 && b.def.sa === 0x02)).to.equal(false);
    expect(sbcThickBindings.some(b => b.def.op === 0x48 && b.def.sa === 0x01)).to.equal(true);
    expect(table.lookup(0x48, 0x02)).to.not.equal(undefined);
    const thin = buildVpdPage(0xb1, makeLu({ thin: true }), makeNexus());
    const thick = buildVpdPage(0xb1, makeLu({ thin: false, backstore: new MemoryBackstore({ sizeBytes: 2048n * 512n, thin: false }) }), makeNexus());
    expect(thin && thin[7]).to.equal(0x40);
    expect(thick && thick[7]).to.equal(0x00);
  });
});

describe('SBC SANITIZE in progress through the pipeline', () => {
  it('NOT READY, SANITIZE IN PROGRESS (02/04/1B) for all but INQUIRY, REPORT LUNS and REQUEST SENSE', async () => {
    const T = 'iqn.2026-11.io.nexus:sanitize';
    const e = await Engine.create({
      devices: [{ name: 'd', handler: 'ram', sizeBytes: 1024n * 512n, blockSize: 512, writeCache: 'writeback', thin: true, readOnly: false }],
      targets: [{ driver: 'iscsi', name: T, portals: [], luns: [{ lun: 0, device: 'd', readOnly: false }], groups: [] }],
    });
    const n = e.openNexus({ targetName: T, initiatorName: 'iqn.test:a', isid: '000000000001' })!;
    let tag = 1;
    const exec = (cdb: number[], len = 0) => new Promise<Completion>(resolve =>
      n.execute({ lun: 0, cdb: Uint8Array.from(cdb), tag: tag++, attr: 1, expectedLength: len }, resolve));
    await exec([0, 0, 0, 0, 0, 0]); // POWER ON, RESET
    e.units.get('d')!.sanitizing = true;
    e.units.get('d')!.sanitizeProgress = 0x4000;
    const tur = await exec([0, 0, 0, 0, 0, 0]);
    expect([tur.status, tur.sense![2] & 0x0f, tur.sense![12], tur.sense![13]]).to.deep.equal([2, 0x02, 0x04, 0x1b]);
    // SPC-4 4.5.2.4.4: SKSV and the progress indication, a quarter done.
    expect([...tur.sense!.subarray(15, 18)]).to.deep.equal([0x80, 0x40, 0x00]);
    const rd = await exec([0x88, 0, ...be(0, 8), ...be(1, 4), 0, 0], 512);
    expect([rd.sense![12], rd.sense![13]]).to.deep.equal([0x04, 0x1b]);
    expect((await exec([0x12, 0, 0, 0, 36, 0], 36)).status).to.equal(0);
    const rs = await exec([0x03, 0, 0, 0, 18, 0], 18);
    expect([rs.status, rs.data![12], rs.data![13]]).to.deep.equal([0, 0x04, 0x1b]);
    expect([...rs.data!.subarray(15, 18)]).to.deep.equal([0x80, 0x40, 0x00]);
    e.units.get('d')!.sanitizing = false;
    expect((await exec([0, 0, 0, 0, 0, 0])).status).to.equal(0);
    await e.close();
  });
});
