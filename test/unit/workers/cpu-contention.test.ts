import { expect } from 'chai';
import {
  ContentionGauge, ENTER_SHARE, HOLD_MS, LEAVE_SHARE, MIN_RUNNABLE_NS, SAMPLE_MS, SchedTimes, ThreadContention,
  readThreadSchedstat, threadContention,
} from '../../../src/workers/cpu-contention';

const MS = 1_000_000;

/** Cumulative readings: each step adds `run` and `wait` ms to the previous one. */
class Counters {
  runNs = 0;
  waitNs = 0;
  add(runMs: number, waitMs: number): SchedTimes {
    this.runNs += runMs * MS;
    this.waitNs += waitMs * MS;
    return { runNs: this.runNs, waitNs: this.waitNs };
  }
}

describe('CPU contention of a thread (schedstat wait share)', () => {
  it('the first reading only sets the baseline', () => {
    const g = new ContentionGauge();
    const c = new Counters();
    g.update(0, c.add(1000, 1000));
    expect(g.contended).to.equal(false);
  });

  it('enters the contended state at ENTER_SHARE of runnable time spent waiting', () => {
    const g = new ContentionGauge();
    const c = new Counters();
    g.update(0, c.add(0, 0));
    // 100 ms runnable, just under the share: not contended.
    const under = Math.floor(100 * ENTER_SHARE) - 1;
    g.update(100, c.add(100 - under, under));
    expect(g.contended).to.equal(false);
    g.update(200, c.add(100 * (1 - ENTER_SHARE), 100 * ENTER_SHARE));
    expect(g.contended).to.equal(true);
    expect(g.changes).to.equal(1);
  });

  it('judges nothing from an interval with too little runnable time (an idle thread)', () => {
    const g = new ContentionGauge();
    const c = new Counters();
    g.update(0, c.add(0, 0));
    const tiny = MIN_RUNNABLE_NS / MS / 2;
    g.update(100, c.add(0, tiny)); // all waiting, but too little of it
    expect(g.contended).to.equal(false);
    g.update(200, c.add(50, 50));
    expect(g.contended).to.equal(true);
    // Idle now: the state stays as it was, whatever the share of the few ns.
    g.update(5000, c.add(tiny / 4, 0));
    expect(g.contended).to.equal(true);
  });

  it('leaves it at LEAVE_SHARE, but not before HOLD_MS', () => {
    const g = new ContentionGauge();
    const c = new Counters();
    g.update(0, c.add(0, 0));
    g.update(100, c.add(50, 50));
    expect(g.contended).to.equal(true);
    // Between the two shares: stays contended however long.
    const between = 100 * (LEAVE_SHARE + ENTER_SHARE) / 2;
    g.update(100 + HOLD_MS * 2, c.add(100 - between, between));
    expect(g.contended).to.equal(true);
    const g2 = new ContentionGauge();
    const c2 = new Counters();
    g2.update(0, c2.add(0, 0));
    g2.update(100, c2.add(50, 50));
    // No waiting at all, but within the hold: still contended.
    g2.update(100 + HOLD_MS - 1, c2.add(100, 0));
    expect(g2.contended).to.equal(true);
    g2.update(100 + HOLD_MS, c2.add(100 * (1 - LEAVE_SHARE), 100 * LEAVE_SHARE));
    expect(g2.contended).to.equal(false);
    expect(g2.changes).to.equal(2);
  });

  it('ignores readings that go backwards (a reused file position, a replaced thread)', () => {
    const g = new ContentionGauge();
    g.update(0, { runNs: 100 * MS, waitNs: 100 * MS });
    g.update(100, { runNs: 10 * MS, waitNs: 0 });
    expect(g.contended).to.equal(false);
    g.update(200, { runNs: 60 * MS, waitNs: 50 * MS });
    expect(g.contended).to.equal(true);
  });

  it('reads schedstat at most every SAMPLE_MS', () => {
    const c = new Counters();
    let reads = 0;
    const t = new ThreadContention(() => { reads++; return c.add(10, 10); });
    t.tick(0);
    t.tick(SAMPLE_MS - 1);
    expect(reads).to.equal(1);
    t.tick(SAMPLE_MS);
    expect(reads).to.equal(2);
    expect(t.contended).to.equal(true);
  });

  it('a kernel without schedstat: read once, never contended, never read again', () => {
    let reads = 0;
    const t = new ThreadContention(() => { reads++; return undefined; });
    for (let i = 0; i < 10; i++) t.tick(i * SAMPLE_MS);
    expect(reads).to.equal(1);
    expect(t.contended).to.equal(false);
  });

  it('reads the calling thread\'s run and wait times on this kernel (one gauge per thread)', () => {
    const a = readThreadSchedstat();
    expect(a, '/proc/thread-self/schedstat').to.not.equal(undefined);
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i;
    expect(x).to.be.greaterThan(0);
    const b = readThreadSchedstat()!;
    expect(b.runNs).to.be.greaterThan(a!.runNs);
    expect(b.waitNs).to.be.at.least(a!.waitNs);
    expect(threadContention()).to.equal(threadContention());
  });
});
