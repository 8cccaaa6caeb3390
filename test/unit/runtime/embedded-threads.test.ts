import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedTarget } from '../../../src/embedded';
import { ExecuteResult, LocalSession } from '../../../src/transports/local/session';
import { Supervisor } from '../../../src/workers/supervisor';
import type { ThreadNexus } from '../../../src/workers/thread-engine';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../../src/engine/spec/status';
import type { Completion } from '../../../src/engine/command';
import { cdb } from '../engine/embedded/fixture';
import { SLOW_ENTRY, block, dev, tgt } from './helpers';

const T1 = 'iqn.2026-11.io.nexus:one';
const T2 = 'iqn.2026-11.io.nexus:two';
const INIT = 'iqn.2026-11.example:host';

/** Everything a result says, as plain data, for deep comparison between engines. */
function plain(r: ExecuteResult): object {
  return { status: r.status, sense: r.sense?.toString('hex') ?? '', data: r.data.toString('hex'), residual: r.residual,
    residualKind: r.residualKind, aborted: r.aborted };
}

async function sequence(s: LocalSession): Promise<object[]> {
  const out: object[] = [];
  const run = async (lun: number, c: number[], dataOut?: Buffer, attr?: TaskAttr): Promise<void> => {
    out.push(plain(await s.execute(lun, c, { dataOut, attr })));
  };
  await run(0, cdb.tur());               // POWER ON, RESET unit attention
  await run(0, cdb.tur());
  await run(1, cdb.inquiry(36));         // INQUIRY does not consume the UA of LUN 1
  await run(1, cdb.readCapacity10());    // ... but this does
  await run(1, cdb.readCapacity10());
  await run(0, cdb.reportLuns());
  await run(7, cdb.inquiry(36));         // unmapped LUN: peripheral qualifier 3
  await run(7, cdb.tur());               // LOGICAL UNIT NOT SUPPORTED
  await run(0, cdb.write10(3, 2), Buffer.concat([block(3, 1), block(4, 1)]));
  await run(1, cdb.write10(3, 1), block(3, 2));
  await run(0, cdb.read10(3, 2));
  await run(1, cdb.read10(3, 1), undefined, TaskAttr.ORDERED);
  await run(0, cdb.read10(2047, 2));     // LBA OUT OF RANGE
  out.push({ tmf: await s.taskManagement(TmfFunction.I_T_NEXUS_RESET) });
  await run(1, cdb.tur());               // I_T NEXUS LOSS OCCURRED
  await run(0, cdb.requestSense(18));
  return out;
}

describe('runtime: embedded sessions with the units on engine threads', function () {
  this.timeout(30000);

  describe('same results as the single-threaded engine', () => {
    it('runs one command sequence on threads 0 and 2 with identical results', async () => {
      const topo = { devices: [dev('disk0'), dev('disk1')], targets: [tgt(T1, ['disk0', 'disk1'])] };
      const results: object[][] = [];
      for (const threads of [0, 2]) {
        const t = await EmbeddedTarget.start(topo, { threads });
        try {
          if (threads === 2) {
            expect([t.runtime.threadOf('disk0'), t.runtime.threadOf('disk1')]).to.deep.equal([0, 1]);
          }
          results.push(await sequence(t.session(INIT)));
        } finally { await t.stop(); }
      }
      expect(results[1]).to.deep.equal(results[0]);
      // The sequence itself is checked by hand where it matters: UA 29h/00h, then GOOD.
      const first = results[0][0] as { status: number; sense: string };
      expect(first.status).to.equal(Status.CHECK_CONDITION);
      expect(first.sense.slice(0, 4)).to.equal('7000');
      expect(first.sense.slice(4, 6)).to.equal('06');
      expect(first.sense.slice(24, 28)).to.equal('2900');
      const reset = results[0][14] as { sense: string };
      expect(reset.sense.slice(24, 28)).to.equal('2907');
      const read = results[0][10] as { data: string };
      expect(read.data).to.equal(Buffer.concat([block(3, 1), block(4, 1)]).toString('hex'));
    });
  });

  describe('through the proxy', () => {
    let t: EmbeddedTarget;
    before(async () => {
      t = await EmbeddedTarget.start({
        devices: [dev('slow0'), dev('disk1')], targets: [tgt(T1, ['slow0', 'disk1'])],
      }, { threads: 2, runtime: { threadEntry: SLOW_ENTRY } });
    });
    after(async () => { await t.stop(); });

    it('keeps ORDERED after the write before it across the hop', async () => {
      const s = t.session(INIT, { isid: '000000000001' });
      await s.execute(0, cdb.tur());
      const order: string[] = [];
      const w = s.execute(0, cdb.write10(9, 1), { dataOut: block(9, 5) }).then(r => { order.push('write'); return r; });
      const r = s.execute(0, cdb.read10(9, 1), { attr: TaskAttr.ORDERED }).then(x => { order.push('read'); return x; });
      const [wr, rr] = await Promise.all([w, r]);
      expect(wr.status).to.equal(Status.GOOD);
      expect(rr.status).to.equal(Status.GOOD);
      expect(order).to.deep.equal(['write', 'read']);
      expect(rr.data.equals(block(9, 5))).to.equal(true);
    });

    it('ABORT TASK on the LU thread aborts the command in flight', async () => {
      const s = t.session(INIT, { isid: '000000000002' });
      await s.execute(0, cdb.tur());
      const sub = s.submit(0, cdb.read10(0, 1));
      const resp = await s.taskManagement(TmfFunction.ABORT_TASK, 0, sub.tag);
      expect(resp).to.equal(TmfResponse.FUNCTION_COMPLETE);
      expect((await sub.result).aborted).to.equal(true);
      expect(await s.taskManagement(TmfFunction.ABORT_TASK, 0, 999)).to.equal(TmfResponse.TASK_DOES_NOT_EXIST);
      expect(await s.taskManagement(TmfFunction.ABORT_TASK, 5, 1)).to.equal(TmfResponse.LUN_DOES_NOT_EXIST);
    });

    it('LUN RESET on the LU thread raises BUS DEVICE RESET (29h/03h) for the other nexus', async () => {
      const a = t.session(INIT, { isid: '000000000003' });
      const b = t.session(INIT, { isid: '000000000004' });
      await a.execute(1, cdb.tur());
      await b.execute(1, cdb.tur());
      expect(await a.taskManagement(TmfFunction.LOGICAL_UNIT_RESET, 1)).to.equal(TmfResponse.FUNCTION_COMPLETE);
      const rb = await b.execute(1, cdb.tur());
      expect([rb.senseKey, rb.asc, rb.ascq]).to.deep.equal([6, 0x29, 0x03]);
    });

    it('takes Data-Out that arrives after the command (dataOutLater)', async () => {
      const n = t.runtime.engine.openNexus({ targetName: T1, initiatorName: INIT, isid: '000000000005' })!;
      const exec = (c: number[], extra: Partial<Parameters<ThreadNexus['execute']>[0]> = {}): Promise<Completion> =>
        new Promise(res => n.execute({ lun: 1, cdb: Uint8Array.from(c), tag: Math.floor(Math.random() * 1e9), attr: TaskAttr.SIMPLE,
          expectedLength: 512, ...extra }, res));
      await exec(cdb.tur(), { expectedLength: 0 });
      const w = exec(cdb.write10(20, 1), { dataOutLater: cb => setTimeout(() => cb(block(20, 9)), 20) });
      expect((await w).status).to.equal(Status.GOOD);
      const r = await exec(cdb.read10(20, 1));
      expect(r.release).to.be.a('function');
      expect(Buffer.from(r.data!).equals(block(20, 9))).to.equal(true);
      r.release!();
      // A pool buffer the transport received Data-Out into is taken without a copy.
      const buf = n.dataOutBuffer(512)!;
      buf.set(block(21, 4));
      expect((await exec(cdb.write10(21, 1), { dataOut: buf })).status).to.equal(Status.GOOD);
      const r2 = await exec(cdb.read10(21, 1));
      expect(Buffer.from(r2.data!).equals(block(21, 4))).to.equal(true);
      r2.release!();
      await n.close('logout');
      expect(n.isClosed).to.equal(true);
    });
  });

  describe('backpressure', () => {
    it('queues on a 2-slot ring and a 2-buffer pool and loses nothing', async () => {
      const t = await EmbeddedTarget.start({ devices: [dev('disk0')], targets: [tgt(T1, ['disk0'])] }, {
        threads: 1, runtime: { ringCapacity: 2, poolClasses: [{ size: 4096, count: 2 }] },
      });
      try {
        const s = t.session(INIT);
        await s.execute(0, cdb.tur());
        const writes = Array.from({ length: 48 }, (_, i) => s.execute(0, cdb.write10(i, 1), { dataOut: block(i, 3) }));
        for (const r of await Promise.all(writes)) expect(r.status).to.equal(Status.GOOD);
        const reads = await Promise.all(Array.from({ length: 48 }, (_, i) => s.execute(0, cdb.read10(i, 1))));
        reads.forEach((r, i) => expect(r.data.equals(block(i, 3)), `block ${i}`).to.equal(true));
        const e = t.runtime.engine;
        expect(e.ringCounters.queuedOps).to.be.greaterThan(0);
        expect(e.ringCounters.taskSetFull).to.equal(0);
        expect(e.queuedOps).to.equal(0);
        expect(t.runtime.pool.stats()[0].inUse).to.equal(0);
      } finally { await t.stop(); }
    });

    it('answers TASK SET FULL only past the local queue bound, and completes every command', async () => {
      const t = await EmbeddedTarget.start({ devices: [dev('slow0')], targets: [tgt(T1, ['slow0'])] }, {
        threads: 1, runtime: { ringCapacity: 2, queueBound: 4, threadEntry: SLOW_ENTRY },
      });
      try {
        const s = t.session(INIT);
        await s.execute(0, cdb.tur());
        const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => s.execute(0, cdb.read10(i, 1))));
        const full = rs.filter(r => r.status === Status.TASK_SET_FULL).length;
        const good = rs.filter(r => r.status === Status.GOOD).length;
        expect(full + good).to.equal(16);
        expect(full).to.be.greaterThan(0);
        expect(good).to.be.at.least(6); // 2 ring slots + 4 queued at least
      } finally { await t.stop(); }
    });

    it('spills data larger than the largest pool class, both ways', async () => {
      const t = await EmbeddedTarget.start({ devices: [dev('disk0')], targets: [tgt(T1, ['disk0'])] }, {
        threads: 1, runtime: { poolClasses: [{ size: 4096, count: 4 }] },
      });
      try {
        const s = t.session(INIT);
        await s.execute(0, cdb.tur());
        const data = block(100, 6, 16); // 8 KiB > 4 KiB
        expect((await s.execute(0, cdb.write10(100, 16), { dataOut: data })).status).to.equal(Status.GOOD);
        const r = await s.execute(0, cdb.read10(100, 16));
        expect(r.data.equals(data)).to.equal(true);
        const c = t.runtime.engine.ringCounters;
        expect(c.spilledOut).to.equal(1);
        expect(c.spilledIn).to.equal(1);
      } finally { await t.stop(); }
    });
  });

  describe('supervision', () => {
    it('replaces a killed thread: its nexus is lost, acknowledged writes survive, others keep working', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-actor-'));
      const file = path.join(dir, 'disk0.img');
      const restarts: number[] = [];
      const e = await Supervisor.create({
        devices: [dev('disk0', 'fileio', 2048, file), dev('slow1')],
        targets: [tgt(T1, ['disk0']), tgt(T2, ['slow1'])],
      }, { threads: 2, callingThread: true, threadEntry: SLOW_ENTRY, onThreadRestart: (i, failed) => { if (!failed) restarts.push(i); } });
      try {
        const a = new LocalSession(e.engine.openNexus({ targetName: T1, initiatorName: INIT })!);
        const b = new LocalSession(e.engine.openNexus({ targetName: T2, initiatorName: INIT })!);
        await a.execute(0, cdb.tur());
        await b.execute(0, cdb.tur());
        // Acknowledged write on thread 0 (fileio: in the page cache when GOOD comes back).
        expect((await a.execute(0, cdb.write10(7, 1), { dataOut: block(7, 8) })).status).to.equal(Status.GOOD);
        expect(e.threadOf('disk0')).to.equal(0);
        let lost = false;
        (a.nexus as ThreadNexus).onLost = () => { lost = true; };
        // The slow nexus B lives on thread 1 and is untouched by thread 0's death.
        const bInFlight = b.execute(0, cdb.write10(1, 1), { dataOut: block(1, 2) });
        await e.worker(0)!.terminate();
        await e.whenReady(0);
        expect(lost).to.equal(true);
        expect(a.nexus.isClosed).to.equal(true);
        expect((await bInFlight).status).to.equal(Status.GOOD);
        expect(b.nexus.isClosed).to.equal(false);
        expect((await b.execute(0, cdb.read10(1, 1))).data.equals(block(1, 2))).to.equal(true);
        expect(restarts).to.deep.equal([0]);
        // The replacement thread re-opened the file: the acknowledged block is there.
        const a2 = new LocalSession(e.engine.openNexus({ targetName: T1, initiatorName: INIT })!);
        await a2.execute(0, cdb.tur());
        const r = await a2.execute(0, cdb.read10(7, 1));
        expect(r.status).to.equal(Status.GOOD);
        expect(r.data.equals(block(7, 8))).to.equal(true);
      } finally {
        await e.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('completes the dead thread\'s in-flight commands aborted, with the nexus closed', async () => {
      const e = await Supervisor.create({ devices: [dev('slow0')], targets: [tgt(T1, ['slow0'])] },
        { threads: 1, callingThread: true, threadEntry: SLOW_ENTRY });
      try {
        const a = new LocalSession(e.engine.openNexus({ targetName: T1, initiatorName: INIT })!);
        await a.execute(0, cdb.tur());
        const inflight = a.execute(0, cdb.read10(0, 1));
        await new Promise(res => setTimeout(res, 20));
        await e.worker(0)!.terminate();
        const r = await inflight;
        expect(r.aborted).to.equal(true);
        expect(a.nexus.isClosed).to.equal(true);
        await e.whenReady(0);
        const a2 = new LocalSession(e.engine.openNexus({ targetName: T1, initiatorName: INIT })!);
        const ua = await a2.execute(0, cdb.tur());
        expect([ua.senseKey, ua.asc, ua.ascq]).to.deep.equal([6, 0x29, 0x00]);
      } finally { await e.close(); }
    });
  });
});
