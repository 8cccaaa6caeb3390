// Supervision and the shared buffer pool (supervisor.ts header, buffer-pool.ts owner tags): an
// engine thread that dies while its unit holds Data-Out buffers it adopted from the calling
// thread's sessions gives them back before its replacement starts; the other thread keeps serving.
import { expect } from 'chai';
import { LocalSession } from '../../../src/transports/local/session';
import { Supervisor } from '../../../src/workers/supervisor';
import { Status } from '../../../src/engine/spec/status';
import { cdb } from '../engine/embedded/fixture';
import { SLOW_ENTRY, block, dev, tgt } from './helpers';

const T0 = 'iqn.2026-11.io.nexus:reclaim0';
const T1 = 'iqn.2026-11.io.nexus:reclaim1';
const INIT = 'iqn.2026-11.example:host';
const CLASSES = [{ size: 4096, count: 16 }, { size: 65536, count: 4 }];

/** Class-0 buffers whose state word names `owner` (public ownerOf; handle = class << 24 | index). */
function ownedBy(e: Supervisor, owner: number): number {
  let n = 0;
  for (let i = 0; i < CLASSES[0].count; i++) if (e.pool.ownerOf(i) === owner) n++;
  return n;
}

describe('runtime: pool buffers of a dead engine thread, sessions on the calling thread', function () {
  this.timeout(20000);

  it('reclaims the Data-Out a killed thread adopted; the pool is whole again and thread 1 keeps serving', async () => {
    // slow0 on thread 0 takes 150 ms per write; d1 on thread 1 is a plain ram unit.
    const e = await Supervisor.create({ devices: [dev('slow0'), dev('d1')], targets: [tgt(T0, ['slow0']), tgt(T1, ['d1'])] },
      { threads: 2, callingThread: true, threadEntry: SLOW_ENTRY, poolClasses: CLASSES });
    try {
      expect(e.threadOf('slow0')).to.equal(0);
      const a = new LocalSession(e.engine.openNexus({ targetName: T0, initiatorName: INIT })!);
      const b = new LocalSession(e.engine.openNexus({ targetName: T1, initiatorName: INIT })!);
      await a.execute(0, cdb.tur());
      await b.execute(0, cdb.tur());
      const writes = [0, 1, 2, 3, 4].map(lba => a.execute(0, cdb.write10(lba, 1), { dataOut: block(lba, 3) }));
      // Thread 0 took the five Data-Out buffers over from the calling thread (owner tag 0).
      for (let i = 0; i < 200 && ownedBy(e, 0) < 5; i++) await new Promise(res => setTimeout(res, 5));
      expect(ownedBy(e, 0)).to.equal(5);
      await e.worker(0)!.terminate();
      for (const w of await Promise.all(writes)) expect(w.aborted).to.equal(true);
      await e.whenReady(0);
      expect(e.recovery.reclaimed).to.equal(5);
      expect(e.pool.stats().map(s => s.inUse)).to.deep.equal([0, 0]);
      // Thread 1 never stopped: its nexus is open and writes and reads through pool buffers.
      expect(b.nexus.isClosed).to.equal(false);
      expect((await b.execute(0, cdb.write10(9, 1), { dataOut: block(9, 4) })).status).to.equal(Status.GOOD);
      const r = await b.execute(0, cdb.read10(9, 1));
      expect(r.data.equals(block(9, 4))).to.equal(true);
      // The replacement serves with the pool at full size.
      const a2 = new LocalSession(e.engine.openNexus({ targetName: T0, initiatorName: INIT })!);
      await a2.execute(0, cdb.tur());
      expect((await a2.execute(0, cdb.write10(1, 1), { dataOut: block(1, 5) })).status).to.equal(Status.GOOD);
      expect(e.pool.stats().map(s => s.inUse)).to.deep.equal([0, 0]);
    } finally { await e.close(); }
  });
});
