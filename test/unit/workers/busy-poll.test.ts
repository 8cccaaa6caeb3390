import { expect } from 'chai';
import { BusyPoll, busyPollFor, threadBusyPoll } from '../../../src/workers/busy-poll';
import type { CpuShare } from '../../../src/workers/cpu-contention';

/** A core the test says is shared or not. */
class FakeCpu implements CpuShare {
  contended = false;
  ticks = 0;
  tick(): void { this.ticks++; }
}

const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('iSCSI busy polling after writes', () => {
  it('keeps the loop turning for the window, then stops by itself', async () => {
    const p = new BusyPoll(2000, new FakeCpu()); // 2 ms
    p.touch();
    expect(p.polling).to.equal(true);
    await immediate();
    await immediate();
    expect(p.stats.turns).to.be.at.least(1);
    const deadline = Date.now() + 2000;
    while (p.polling && Date.now() < deadline) await sleep(5);
    expect(p.polling).to.equal(false);
    expect(p.stats.windows).to.equal(1);
  });

  it('a touch while polling extends the window instead of opening another', async () => {
    const p = new BusyPoll(5000, new FakeCpu());
    p.touch();
    await immediate();
    p.touch();
    p.touch();
    expect(p.stats.windows).to.equal(1);
    const deadline = Date.now() + 2000;
    while (p.polling && Date.now() < deadline) await sleep(5);
    p.touch();
    expect(p.stats.windows).to.equal(2);
  });

  it('a zero window never polls', async () => {
    const p = new BusyPoll(0, new FakeCpu());
    p.touch();
    expect(p.polling).to.equal(false);
    await immediate();
    expect(p.stats).to.deep.equal({ windows: 0, turns: 0 });
  });

  it('does not poll while the thread shares its core, and polls again once it has it back', async () => {
    const cpu = new FakeCpu();
    const p = new BusyPoll(2000, cpu);
    cpu.contended = true;
    p.touch();
    expect(cpu.ticks).to.equal(1);
    expect(p.polling).to.equal(false);
    await immediate();
    expect(p.stats).to.deep.equal({ windows: 0, turns: 0 });
    cpu.contended = false;
    p.touch();
    expect(p.polling).to.equal(true);
    expect(p.stats.windows).to.equal(1);
  });

  it('one poller per thread: connections and the ring scheduler share it', () => {
    const a = busyPollFor(50);
    expect(a).to.be.instanceOf(BusyPoll);
    expect(a).to.equal(threadBusyPoll());
    expect(a!.windowMicros).to.equal(50);
    expect(busyPollFor(0)).to.equal(undefined);
    expect(threadBusyPoll().windowMicros).to.equal(0);
  });
});
