import { expect } from 'chai';
import * as path from 'node:path';
import { EngineThreads, ThreadCrash } from '../../../src/workers/engine-threads';
import { ActorReport } from '../../../src/workers/messages';
import { DescKind, DescriptorCursor } from '../../../src/workers/ring/descriptor';
import { Actor, RingMesh, Scheduler } from '../../../src/workers/scheduler';
import { threadBusyPoll } from '../../../src/workers/busy-poll';

const actorModule = path.join(__dirname, 'fixtures', 'test-actors.ts');

class Recorder implements Actor {
  readonly seen: number[] = [];
  constructor(readonly id: number) {}
  receive(d: DescriptorCursor): void { this.seen.push(d.tag); }
}

function waitFor<T>(register: (cb: (v: T) => void) => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    register((v) => { clearTimeout(t); resolve(v); });
  });
}

describe('workers/scheduler (one thread, driven by hand)', () => {
  it('routes between two schedulers over the mesh and batches per pass', () => {
    const mesh = RingMesh.create(2, 8);
    const s0 = new Scheduler(mesh.forThread(0));
    const s1 = new Scheduler(mesh.forThread(1));
    const a = new Recorder(10);
    const b = new Recorder(20);
    s0.register(a);
    s1.register(b);
    s0.setRoute(20, 1);
    for (let i = 0; i < 8; i++) {
      const d = s0.send(20);
      expect(d).to.not.equal(null);
      (d as DescriptorCursor).tag = i;
    }
    expect(s0.send(20)).to.equal(null); // ring of 8 is full: backpressure, nothing dropped
    s0.flush();
    expect(s1.drain()).to.equal(8);
    expect(b.seen).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s1.counters.delivered).to.equal(8);
    expect(s0.send(99)).to.equal(null); // no route
  });

  it('delivers same-thread sends through the local ring and counts undeliverable ones', () => {
    const mesh = RingMesh.create(1, 4);
    const s = new Scheduler(mesh.forThread(0), { localCapacity: 4 });
    const a = new Recorder(1);
    s.register(a);
    (s.send(1) as DescriptorCursor).tag = 7;
    s.setRoute(2, 0); // routed here but not hosted
    (s.send(2) as DescriptorCursor).tag = 8;
    s.flush();
    expect(s.drain()).to.equal(2);
    expect(a.seen).to.deep.equal([7]);
    expect(s.counters.undeliverable).to.equal(1);
  });

  it('limits each pass to the batch size', () => {
    const mesh = RingMesh.create(2, 16);
    const s0 = new Scheduler(mesh.forThread(0));
    const s1 = new Scheduler(mesh.forThread(1), { batch: 5 });
    const b = new Recorder(2);
    s1.register(b);
    s0.setRoute(2, 1);
    for (let i = 0; i < 12; i++) (s0.send(2) as DescriptorCursor).tag = i;
    s0.flush();
    expect([s1.drain(), s1.drain(), s1.drain(), s1.drain()]).to.deep.equal([5, 5, 2, 0]);
    expect(b.seen).to.have.length(12);
  });

  it('wakes a parked run loop when another scheduler publishes', async () => {
    const mesh = RingMesh.create(2, 8);
    const s0 = new Scheduler(mesh.forThread(0));
    const s1 = new Scheduler(mesh.forThread(1), { spin: 0 });
    let got = -1;
    let resolve: () => void = () => undefined;
    const done = new Promise<void>((r) => { resolve = r; });
    s1.register({ id: 5, receive: (d) => { got = d.tag; resolve(); } });
    s0.setRoute(5, 1);
    s1.start();
    await new Promise((r) => setTimeout(r, 20)); // let it park
    const d = s0.send(5) as DescriptorCursor;
    d.kind = DescKind.COMMAND;
    d.tag = 42;
    s0.flush();
    await done;
    s1.stop();
    expect(got).to.equal(42);
  });
});

describe('workers/scheduler busy-poll window', () => {
  it('after a delivery it checks the rings every turn (no doorbell), then parks when the window ends', async () => {
    const mesh = RingMesh.create(2, 8);
    const s0 = new Scheduler(mesh.forThread(0));
    const s1 = new Scheduler(mesh.forThread(1), { spin: 0, pollMicros: 20_000 }); // 20 ms window
    const seen: number[] = [];
    s1.register({ id: 5, receive: (d) => { seen.push(d.tag); } });
    s0.setRoute(5, 1);
    const send = (tag: number): void => {
      const d = s0.send(5) as DescriptorCursor;
      d.kind = DescKind.COMMAND;
      d.tag = tag;
      s0.flush();
    };
    s1.start();
    await new Promise((r) => setTimeout(r, 20)); // parked: the first send needs a wake-up
    send(1);
    for (let i = 0; i < 200 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 1));
    const wakes = s1.counters.wakeups;
    expect(wakes).to.equal(1);
    // Inside the window the next descriptor is found by polling: no further wake-up.
    send(2);
    for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setImmediate(r));
    expect(seen).to.deep.equal([1, 2]);
    expect(s1.counters.wakeups).to.equal(wakes);
    // After the window the loop parks again, and a send wakes it.
    await new Promise((r) => setTimeout(r, 60));
    send(3);
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 1));
    expect(seen).to.deep.equal([1, 2, 3]);
    expect(s1.counters.wakeups).to.equal(wakes + 1);
    s1.stop();
    threadBusyPoll().configure(0);
  });
});

describe('workers/engine-threads (real worker_threads)', function () {
  this.timeout(60000);

  it('two threads exchange 100 000 descriptors in order with no loss', async () => {
    const reports: ActorReport[] = [];
    let onReport: (r: ActorReport) => void = () => undefined;
    const threads = new EngineThreads({
      threads: 2, ringCapacity: 256, actorModules: [actorModule],
      onReport: (r) => { reports.push(r); onReport(r); },
    });
    await threads.start();
    try {
      const total = 100000;
      const both = waitFor<void>((cb) => {
        onReport = () => { if (reports.length === 2) cb(); };
      }, 50000, 'completion reports');
      await threads.place(2, 'sink', { total }, 1);
      await threads.place(1, 'source', { sink: 2, total, window: 256 }, 0);
      await both;
      const byName = new Map(reports.map((r) => [r.name, r.values]));
      expect(byName.get('sinkDone')).to.deep.equal({ received: total, outOfOrder: 0, replyFailures: 0 });
      expect(byName.get('sourceDone')).to.deep.include({ completed: total, outOfOrder: 0 });
      const stats = await threads.stats();
      const delivered = stats.map((s) => s.counters.delivered).reduce((x, y) => x + y, 0);
      expect(delivered).to.equal(2 * total);
      expect(stats.every((s) => s.counters.undeliverable === 0)).to.equal(true);
    } finally {
      await threads.shutdown();
    }
  });

  it('reports a terminated thread with the actors it hosted', async () => {
    let onCrash: (c: ThreadCrash) => void = () => undefined;
    const threads = new EngineThreads({ threads: 2, ringCapacity: 16, actorModules: [actorModule], onCrash: (c) => onCrash(c) });
    await threads.start();
    try {
      await threads.place(11, 'idle', null, 0);
      await threads.place(12, 'idle', null, 0);
      await threads.place(13, 'idle', null, 1);
      const crash = waitFor<ThreadCrash>((cb) => { onCrash = cb; }, 20000, 'crash report');
      await threads.worker(0).terminate();
      const c = await crash;
      expect(c.threadIndex).to.equal(0);
      expect([...c.actorIds].sort()).to.deep.equal([11, 12]);
      expect(threads.actorsOn(1)).to.deep.equal([13]);
    } finally {
      await threads.shutdown();
    }
  });

  it('reports a thread that calls process.exit, with its exit code', async () => {
    let onCrash: (c: ThreadCrash) => void = () => undefined;
    const threads = new EngineThreads({ threads: 2, ringCapacity: 16, actorModules: [actorModule], onCrash: (c) => onCrash(c) });
    await threads.start();
    try {
      await threads.place(21, 'idle', null, 1);
      await threads.place(22, 'exiter', null, 1);
      const crash = waitFor<ThreadCrash>((cb) => { onCrash = cb; }, 20000, 'crash report');
      threads.configure(22, { exit: 7 });
      const c = await crash;
      expect(c).to.deep.include({ threadIndex: 1, exitCode: 7 });
      expect([...c.actorIds].sort()).to.deep.equal([21, 22]);
      expect(threads.actorsOn(0)).to.deep.equal([]);
    } finally {
      await threads.shutdown();
    }
  });

  it('refuses unknown kinds and factories that throw, and does not report a clean shutdown', async () => {
    const crashes: ThreadCrash[] = [];
    const threads = new EngineThreads({ threads: 1, actorModules: [actorModule], onCrash: (c) => crashes.push(c) });
    await threads.start();
    let err1: unknown;
    let err2: unknown;
    try {
      await threads.place(1, 'nope', null, 0).catch((e) => { err1 = e; });
      await threads.place(2, 'broken', null, 0).catch((e) => { err2 = e; });
    } finally {
      await threads.shutdown();
    }
    expect(err1).to.have.property('code', 'ERR_PLACEMENT');
    expect(err2).to.have.property('message').that.matches(/cannot start/);
    expect(crashes).to.deep.equal([]);
  });
});
