import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as native from '../../../../src/native';
import { FileBackstore } from '../../../../src/engine/backstores/file';
import { MemoryBackstore } from '../../../../src/engine/backstores/memory';
import { NullBackstore } from '../../../../src/engine/backstores/null';
import { rangeLockFor } from '../../../../src/engine/range-lock';
import { Outcome } from '../../../../src/engine/result';
import { Status } from '../../../../src/engine/spec/status';
import { sbcBindings } from '../../../../src/engine/sbc';
import { Exec, LuView } from '../../../../src/engine/types';
import { be, makeLu, makeNexus, table } from './fixture';

/**
 * READ and WRITE complete synchronously (an Outcome, not a Promise) when the store can answer at
 * once and no conflicting range lock is queued; otherwise they take the async path in lock order.
 */

const execs = new Map(sbcBindings.map(b => [b.def, b.exec] as const));
const read10 = (lba: number, n: number): number[] => [0x28, 0, ...be(lba, 4), 0, ...be(n, 2), 0];
const write10 = (lba: number, n: number): number[] => [0x2a, 0, ...be(lba, 4), 0, ...be(n, 2), 0];

/** Runs the row's exec and returns what it returned, Promise or not. */
function exec(lu: LuView, bytes: number[], dataOut?: Uint8Array): Outcome | Promise<Outcome> {
  const cdb = Uint8Array.from(bytes);
  const dec = table.decode(cdb);
  if (!dec.ok) throw new Error('decode refused the CDB');
  const xferBytes = dec.def.xferBytes(dec.f, lu.blockSize);
  return (execs.get(dec.def) as Exec)({ cdb, def: dec.def, f: dec.f, lu, nexus: makeNexus(), lun: 0, readOnly: false, dataOut, xferBytes });
}

function syncOutcome(o: Outcome | Promise<Outcome>): Outcome {
  expect(o).to.not.be.instanceOf(Promise);
  return o as Outcome;
}

describe('engine/sbc synchronous READ/WRITE completion', () => {
  it('ram: WRITE and READ complete at once and read back what was written', () => {
    const lu = makeLu();
    const data = Buffer.alloc(1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    expect(syncOutcome(exec(lu, write10(5, 2), data)).status).to.equal(Status.GOOD);
    const r = syncOutcome(exec(lu, read10(5, 2)));
    expect(r.status).to.equal(Status.GOOD);
    expect(Buffer.from(r.data!).equals(data)).to.equal(true);
  });

  it('null: a READ lends zeros without a fresh buffer per command', () => {
    const lu = makeLu({ backstore: new NullBackstore({ sizeBytes: 2048n * 512n }) });
    const a = syncOutcome(exec(lu, read10(0, 8)));
    const b = syncOutcome(exec(lu, read10(100, 8)));
    expect(a.data!.length).to.equal(4096);
    expect(a.data!.every(x => x === 0)).to.equal(true);
    expect(a.data!.buffer).to.equal(b.data!.buffer);
  });

  it('a READ overlapping a held exclusive lock waits for its release, then reads the new data', async () => {
    const lu = makeLu();
    const unlock = await rangeLockFor(lu.backstore).acquire(10n, 4n, true);
    const pending = exec(lu, read10(12, 1));
    expect(pending).to.be.instanceOf(Promise);
    let settled = false;
    void Promise.resolve(pending).then(() => { settled = true; });
    await new Promise<void>(r => setImmediate(r));
    expect(settled).to.equal(false);
    await lu.backstore.write(12 * 512, Buffer.alloc(512, 0x9c), false);
    unlock();
    const r = await pending;
    expect(r.status).to.equal(Status.GOOD);
    expect(r.data!.every(x => x === 0x9c)).to.equal(true);
    // Outside the locked range nothing waits.
    const lock2 = await rangeLockFor(lu.backstore).acquire(10n, 4n, true);
    expect(syncOutcome(exec(lu, read10(14, 1))).status).to.equal(Status.GOOD);
    lock2();
  });

  it('a WRITE overlapping a held shared lock waits; a READ beside the shared lock does not', async () => {
    const lu = makeLu();
    const unlock = await rangeLockFor(lu.backstore).acquire(0n, 8n, false);
    expect(syncOutcome(exec(lu, read10(0, 8))).status).to.equal(Status.GOOD);
    const w = exec(lu, write10(7, 1), Buffer.alloc(512, 1));
    expect(w).to.be.instanceOf(Promise);
    unlock();
    expect((await w).status).to.equal(Status.GOOD);
    const back = Buffer.alloc(512);
    await lu.backstore.read(7 * 512, back);
    expect(back.every(x => x === 1)).to.equal(true);
  });

  it('fileio: write-back WRITE and a page-cache READ complete at once; write-through WRITE takes the async path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-sync-path-'));
    const wt = await FileBackstore.open({ path: join(dir, 'wt.img'), sizeBytes: 2048n * 512n, writeBack: false });
    try {
      const slow = exec(makeLu({ backstore: wt }), write10(3, 1), Buffer.alloc(512, 0x42));
      expect(slow).to.be.instanceOf(Promise);
      expect((await slow).status).to.equal(Status.GOOD);
    } finally { await wt.close(); }
    const store = await FileBackstore.open({ path: join(dir, 'lu.img'), sizeBytes: 2048n * 512n, writeBack: true });
    try {
      const lu = makeLu({ backstore: store });
      const w = exec(lu, write10(3, 1), Buffer.alloc(512, 0x42));
      // Without the addon there is no synchronous pwrite and the write is async.
      expect(w instanceof Promise).to.equal(!native.available);
      expect((w instanceof Promise ? await w : w).status).to.equal(Status.GOOD);
      const r = exec(lu, read10(3, 1));
      // Just written, so in the page cache: preadv2(RWF_NOWAIT) answers at once. Without the
      // addon there is no RWF_NOWAIT and the read must take the async path.
      expect(r instanceof Promise).to.equal(!native.available);
      const o = r instanceof Promise ? await r : r;
      expect(o.status).to.equal(Status.GOOD);
      expect(Buffer.from(o.data!).equals(Buffer.alloc(512, 0x42))).to.equal(true);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
