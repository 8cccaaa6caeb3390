// The runtime's engine threads as real worker threads (supervisor.ts): descriptors cross the rings
// between threads in order and none is lost; a thread that exits without being asked to is
// reported with its exit code and the actors it hosted, and a clean shutdown reports nothing.
import { expect } from 'chai';
import type { Completion } from '../../../src/engine/command';
import type { NexusApi } from '../../../src/engine/engine-api';
import { Status, TaskAttr } from '../../../src/engine/spec/status';
import { Supervisor, ThreadExit } from '../../../src/workers/supervisor';
import { cdb } from '../engine/embedded/fixture';
import { EXIT_ENTRY, dev, tgt } from './helpers';

const T = 'iqn.2026-11.io.nexus:sup';
const T1 = 'iqn.2026-11.io.nexus:sup1';
const INIT = 'iqn.2026-11.example:host';

function exec(n: NexusApi, lun: number, c: number[], tag: number, attr = TaskAttr.SIMPLE, dataOut?: Uint8Array): Promise<Completion> {
  return new Promise(resolve => n.execute(
    { lun, cdb: Uint8Array.from(c), tag, attr, expectedLength: dataOut?.length ?? 0, dataOut },
    c2 => { c2.release?.(); resolve(c2); },
  ));
}

function waitFor<T>(register: (cb: (v: T) => void) => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    register(v => { clearTimeout(t); resolve(v); });
  });
}

describe('runtime supervision (real worker threads)', function () {
  this.timeout(60000);

  it('20 000 ORDERED commands cross the ring to an engine thread and complete in order, none lost', async () => {
    const e = await Supervisor.create({ devices: [dev('d0')], targets: [tgt(T, ['d0'])] }, { threads: 1, callingThread: true, ringCapacity: 256 });
    try {
      const n = e.engine.openNexus({ targetName: T, initiatorName: INIT })!;
      await exec(n, 0, cdb.tur(), 0); // the POWER ON unit attention
      const total = 20000;
      const window = 256;
      const order: number[] = [];
      let good = 0;
      let sent = 0;
      await new Promise<void>(resolve => {
        const pump = (): void => {
          while (sent < total && sent - order.length < window) {
            const tag = ++sent;
            // SAM-5 8.6.4: an ORDERED task completes after every task before it.
            void exec(n, 0, cdb.tur(), tag, TaskAttr.ORDERED).then(c => {
              order.push(tag);
              if (c.status === Status.GOOD) good++;
              if (order.length === total) resolve(); else pump();
            });
          }
        };
        pump();
      });
      expect(good).to.equal(total);
      expect(order.every((tag, i) => tag === i + 1)).to.equal(true);
      const [thread] = await e.stats();
      expect(thread.counters['scheduler.delivered']).to.be.at.least(total + 1);
      expect(thread.counters['scheduler.undeliverable']).to.equal(0);
      const here = e.hereCounters()!;
      expect(here['scheduler.delivered']).to.equal(thread.counters['scheduler.delivered'] - 1); // all but NEXUS_OPEN answered
      expect(here['scheduler.undeliverable']).to.equal(0);
    } finally { await e.close(); }
  });

  it('an engine thread\'s V8 heap is limited (young generation 24 MiB, old generation 256 MiB), unlike a default isolate\'s', async () => {
    const e = await Supervisor.create({ devices: [dev('d0')], targets: [tgt(T, ['d0'])] }, { threads: 1, callingThread: true });
    try {
      const [thread] = await e.stats();
      const mib = 1 << 20;
      // V8's heap_size_limit is the old generation's limit plus the young generation's (both
      // semi-spaces and the new large object space): 256 + 24 MiB here, whatever the machine.
      expect(thread.counters['memory.heapLimit']).to.be.within(256 * mib, (256 + 24) * mib);
      expect(thread.counters['memory.newSpace']).to.be.at.most(16 * mib);
      // The calling thread keeps Node's defaults (a quarter of the machine's memory, at least 512 MiB old generation).
      expect(e.hereCounters()!['memory.heapLimit']).to.be.greaterThan(512 * mib);
    } finally { await e.close(); }
  });

  it('reports a terminated thread with the units and sessions it hosted; the other thread keeps its unit', async () => {
    const exits: ThreadExit[] = [];
    let onExit: (x: ThreadExit) => void = () => undefined;
    const e = await Supervisor.create({
      devices: [dev('d0'), dev('d1'), dev('d2')], targets: [tgt(T, ['d0', 'd2']), tgt(T1, ['d1'])],
    }, { threads: 2, callingThread: true, onThreadExit: x => { exits.push(x); onExit(x); } });
    try {
      const b = e.engine.openNexus({ targetName: T1, initiatorName: INIT })!;
      await exec(b, 0, cdb.tur(), 1);
      const crash = waitFor<ThreadExit>(cb => { onExit = cb; }, 20000, 'thread exit report');
      await e.worker(0)!.terminate();
      const x = await crash;
      expect(x).to.deep.include({ threadIndex: 0, exitCode: 1 });
      expect([...x.units]).to.deep.equal(['d0', 'd2']);
      expect([...x.sessions]).to.deep.equal([]);
      expect(e.threadOf('d1')).to.equal(1);
      expect(b.isClosed).to.equal(false);
      expect((await exec(b, 0, cdb.tur(), 2)).status).to.equal(Status.GOOD);
      await e.whenReady(0);
      expect(exits).to.have.length(1);
    } finally { await e.close(); }
  });

  it('reports a thread that calls process.exit, with its exit code; a clean shutdown reports nothing', async () => {
    const exits: ThreadExit[] = [];
    let onExit: (x: ThreadExit) => void = () => undefined;
    const e = await Supervisor.create({
      devices: [dev('d0'), dev('exit1')], targets: [tgt(T, ['d0']), tgt(T1, ['exit1'])],
    }, { threads: 2, callingThread: true, threadEntry: EXIT_ENTRY, onThreadExit: x => { exits.push(x); onExit(x); } });
    try {
      const n = e.engine.openNexus({ targetName: T1, initiatorName: INIT })!;
      await exec(n, 0, cdb.tur(), 1);
      const crash = waitFor<ThreadExit>(cb => { onExit = cb; }, 20000, 'thread exit report');
      const data = Buffer.alloc(512);
      data[0] = 0xee;
      data[1] = 7;
      const w = exec(n, 0, cdb.write10(0, 1), 2, TaskAttr.SIMPLE, data);
      const x = await crash;
      expect(x).to.deep.include({ threadIndex: 1, exitCode: 7 });
      expect([...x.units]).to.deep.equal(['exit1']);
      expect((await w).aborted).to.equal(true);
      await e.whenReady(1);
    } finally { await e.close(); }
    expect(exits).to.have.length(1);
  });

  it('an idle engine thread parks: after the busy-poll window it runs no passes and its loop is idle', async () => {
    const e = await Supervisor.create({ devices: [dev('d0'), dev('d1')], targets: [tgt(T, ['d0', 'd1'])] },
      { threads: 2, callingThread: true, homing: 'spread', busyPollMicros: 2000 });
    try {
      const n = e.engine.openNexus({ targetName: T, initiatorName: INIT })!;
      await exec(n, 0, cdb.tur(), 1);
      for (let i = 0; i < 200; i++) await exec(n, i % 2, cdb.read10(i, 1), 10 + i, TaskAttr.SIMPLE);
      await new Promise(res => setTimeout(res, 50)); // past the 2 ms busy-poll window
      const before = await e.stats();
      const elu = [e.worker(0)!, e.worker(1)!].map(w => w.performance.eventLoopUtilization());
      await new Promise(res => setTimeout(res, 400));
      const after = await e.stats();
      for (const t of [0, 1]) {
        const b = before.find(r => r.threadIndex === t)!.counters;
        const a = after.find(r => r.threadIndex === t)!.counters;
        expect(b['scheduler.delivered'], `thread ${t} served`).to.be.greaterThan(100);
        // Parked on its doorbell: at most the idle-timeout re-check (1 s) and the stats round trip.
        expect(a['scheduler.passes'] - b['scheduler.passes'], `thread ${t} passes`).to.be.at.most(2);
        expect(a['scheduler.wakeups'] - b['scheduler.wakeups'], `thread ${t} wake-ups`).to.be.at.most(1);
        const u = e.worker(t)!.performance.eventLoopUtilization(elu[t]);
        expect(u.utilization, `thread ${t} event-loop utilization while idle`).to.be.below(0.05);
      }
    } finally { await e.close(); }
  });
});
