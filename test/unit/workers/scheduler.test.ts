import { expect } from 'chai';
import { DescKind, DescriptorCursor } from '../../../src/workers/ring/descriptor';
import { Actor, RingMesh, Scheduler } from '../../../src/workers/scheduler';
import { BusyPoll } from '../../../src/workers/busy-poll';

class Recorder implements Actor {
  readonly seen: number[] = [];
  constructor(readonly id: number) {}
  receive(d: DescriptorCursor): void { this.seen.push(d.tag); }
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
    // 20 ms window, on a core the poller takes as the thread's own (cpu-contention.ts).
    const poll = new BusyPoll(0, { tick: () => undefined, contended: false });
    const s1 = new Scheduler(mesh.forThread(1), { spin: 0, pollMicros: 20_000, busyPoll: poll });
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
    // The scheduler opened the poller it was given (BusyPoll caps a window at 10 ms).
    expect(poll.windowMicros).to.equal(10_000);
  });
});
