import { expect } from 'chai';
import { Engine } from '../../../src/engine/engine';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../../src/engine/spec/status';
import type { Completion } from '../../../src/engine/command';
import type { NexusApi } from '../../../src/engine/engine-api';
import { block } from './helpers';
import { TARGET, TOPOLOGY, run, startMesh } from './mesh-helpers';

const IDENT = { targetName: TARGET, initiatorName: 'iqn.2024-01.test:i1', isid: '400001370000', tpgt: 1 };
const TUR = [0x00, 0, 0, 0, 0, 0];
const INQUIRY = [0x12, 0, 0, 0, 96, 0];
const WRITE_10_LBA3 = [0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0];
const READ_10_LBA3 = [0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0];

interface Outcome { status: number; senseKey: number; asc: number; ascq: number; data: string }
function outcome(c: Completion): Outcome {
  const s = c.sense;
  return {
    status: c.status,
    senseKey: s ? s[2] & 0x0f : -1, asc: s ? s[12] : -1, ascq: s ? s[13] : -1,
    data: c.data ? Buffer.from(c.data).toString('hex') : '',
  };
}

/** The same scenario on one LUN; returns every outcome in order. */
async function scenario(n: NexusApi, lun: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  out.push(outcome(await run(n, lun, TUR)));
  out.push(outcome(await run(n, lun, TUR)));
  out.push(outcome(await run(n, lun, INQUIRY, 96)));
  out.push(outcome(await run(n, lun, WRITE_10_LBA3, 512, block(3, lun + 1))));
  out.push(outcome(await run(n, lun, READ_10_LBA3, 512)));
  const r = await n.taskManagement({ fn: TmfFunction.LOGICAL_UNIT_RESET, lun });
  out.push({ status: r, senseKey: -1, asc: -1, ascq: -1, data: '' });
  out.push(outcome(await run(n, lun, TUR)));
  out.push(outcome(await run(n, lun, TUR)));
  return out;
}

describe('ThreadEngine: sessions on an engine thread', function () {
  this.timeout(20000);

  it('answers like the plain Engine on a local and a remote LUN', async () => {
    const m = await startMesh();
    const plain = await Engine.create(TOPOLOGY);
    try {
      const te = m.parts[0].engine;
      const n = te.openNexus(IDENT)!;
      const ref = plain.openNexus(IDENT)!;
      for (const lun of [0, 1]) {
        const got = await scenario(n, lun);
        const want = await scenario(ref, lun);
        expect(got).to.deep.equal(want);
        // Hand-built checks that the scenario means what it says (SPC-4 / SAM-5).
        expect(got[0]).to.include({ status: Status.CHECK_CONDITION, senseKey: 0x6, asc: 0x29 }); // POWER ON, RESET
        expect(got[1].status).to.equal(Status.GOOD);
        expect(got[2].data.slice(0, 2)).to.equal('00'); // peripheral device type: direct access block
        expect(got[4].data).to.equal(block(3, lun + 1).toString('hex'));
        expect(got[5].status).to.equal(TmfResponse.FUNCTION_COMPLETE);
        expect(got[6]).to.include({ status: Status.CHECK_CONDITION, senseKey: 0x6, asc: 0x29, ascq: 0x03 }); // BUS DEVICE RESET
        expect(got[7].status).to.equal(Status.GOOD);
      }
      await n.close('logout');
      await ref.close('logout');
    } finally {
      await plain.close();
      await m.close();
    }
  });

  it('remote Data-In travels in the pool buffer the backstore read into; the CDB is decoded from the descriptor', async () => {
    const m = await startMesh();
    try {
      const n = m.parts[0].engine.openNexus(IDENT)!;
      await run(n, 1, TUR);
      expect((await run(n, 1, WRITE_10_LBA3, 512, block(3, 7))).status).to.equal(Status.GOOD);
      const lun = m.parts[1].lun.counters;
      const before = { ...lun };
      const c = await new Promise<Completion>(resolve => n.execute(
        { lun: 1, cdb: Uint8Array.from(READ_10_LBA3), tag: 9001, attr: TaskAttr.SIMPLE, expectedLength: 512 }, resolve));
      expect(c.status).to.equal(Status.GOOD);
      // The bytes sit at the start of a pool buffer (no copy into a second one on d1's thread) ...
      const h = m.pool.handleAt(c.data!);
      expect(h).to.be.at.least(0);
      expect(Buffer.from(c.data!).equals(block(3, 7))).to.equal(true);
      expect(lun.dataInLent).to.equal(before.dataInLent + 1);
      expect(lun.dataInCopied).to.equal(before.dataInCopied);
      // ... which the session's thread holds until it releases it.
      expect(m.pool.ownerOf(h)).to.equal(0);
      c.release!();
      expect(m.pool.stats().map(x => x.inUse)).to.deep.equal([0, 0, 0]);
      // Lent zeros of a null store, or heap data, are still copied once into a pool buffer.
      const inq = await run(n, 1, INQUIRY, 96);
      expect(inq.status).to.equal(Status.GOOD);
      expect(lun.dataInCopied).to.equal(before.dataInCopied + 1);
      await n.close('logout');
    } finally {
      await m.close();
    }
  });

  it('concurrent writes whose Data-Out comes later each get their own data on a remote LUN', async () => {
    const m = await startMesh();
    try {
      const n = m.parts[0].engine.openNexus(IDENT)!;
      await run(n, 1, TUR);
      // Eight writes in flight to the unit on thread 1 before any data is given; the data then
      // arrives in reverse order. Each LBA must hold the data of its own write.
      const give: Array<() => void> = [];
      const writes: Array<Promise<Completion>> = [];
      for (let i = 0; i < 8; i++) {
        const lba = 40 + i;
        const cdb = Uint8Array.from([0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0]);
        writes.push(new Promise((resolve) => n.execute({
          lun: 1, cdb, tag: 9000 + i, attr: 0, expectedLength: 512,
          dataOutLater: (cb) => give.push(() => cb(block(lba, 0x30 + i))),
        }, resolve)));
      }
      for (let i = 0; i < 200 && give.length < 8; i++) await new Promise((r) => setTimeout(r, 5));
      expect(give.length).to.equal(8);
      for (const g of give.reverse()) g();
      // Bounded: data handed to the wrong command leaves a write waiting forever.
      const all = await Promise.race([Promise.all(writes), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
      expect(all, 'every write completed').to.not.equal(undefined);
      for (const c of all!) expect(c.status).to.equal(Status.GOOD);
      for (let i = 0; i < 8; i++) {
        const lba = 40 + i;
        const r = await run(n, 1, [0x28, 0, 0, 0, 0, lba, 0, 0, 1, 0], 512);
        expect(Buffer.from(r.data!).equals(block(lba, 0x30 + i)), `LBA ${lba}`).to.equal(true);
      }
      await n.close('logout');
    } finally {
      await m.close();
    }
  });

  it('local units take no ring traffic; remote units go through the ring', async () => {
    const m = await startMesh();
    try {
      const te = m.parts[0].engine;
      const peer = m.parts[1].lun.scheduler.counters;
      const n = te.openNexus(IDENT)!;
      // Let the NEXUS_OPEN reach thread 1 so the counters below only see commands.
      await run(n, 1, TUR);
      const sent0 = te.ringCounters.sent;
      const delivered0 = peer.delivered;
      const local0 = te.counters.localCommands;
      for (let i = 0; i < 10; i++) await run(n, 0, READ_10_LBA3, 512);
      await n.taskManagement({ fn: TmfFunction.ABORT_TASK, lun: 0, refTag: 999999 });
      expect(te.counters.localCommands - local0).to.equal(10);
      expect(te.ringCounters.sent).to.equal(sent0);
      expect(peer.delivered).to.equal(delivered0);
      const remote0 = te.counters.remoteCommands;
      const done = await Promise.all(Array.from({ length: 10 }, () => run(n, 1, READ_10_LBA3, 512)));
      expect(done.every(c => c.status === Status.GOOD)).to.equal(true);
      expect(te.counters.remoteCommands - remote0).to.equal(10);
      expect(te.ringCounters.sent - sent0).to.equal(10);
      expect(peer.delivered - delivered0).to.equal(10);
      await n.close('logout');
    } finally {
      await m.close();
    }
  });

  it('a dead peer loses every nexus with units there; after peerUp new nexuses reach it again', async () => {
    const m = await startMesh();
    try {
      const te = m.parts[0].engine;
      const both = te.openNexus(IDENT)!;
      const localOnly = te.openNexus({ ...IDENT, targetName: TARGET, isid: '400001370009' })!;
      expect(both.remote).to.deep.equal([1]);
      let lost = 0;
      both.onLost = () => { lost++; };
      te.peerDown(1);
      expect(both.isClosed).to.equal(true);
      expect(lost).to.equal(1);
      const c = await run(both, 0, TUR);
      expect(c.status).to.equal(Status.TASK_ABORTED);
      // Same map (both units), so this nexus has work on thread 1 too: lost as well.
      expect(localOnly.isClosed).to.equal(true);
      te.peerUp(1);
      const again = te.openNexus({ ...IDENT, isid: '40000137000a' })!;
      expect((await run(again, 1, TUR)).status).to.equal(Status.CHECK_CONDITION);
      expect((await run(again, 1, TUR)).status).to.equal(Status.GOOD);
      await again.close('logout');
    } finally {
      await m.close();
    }
  });
});
