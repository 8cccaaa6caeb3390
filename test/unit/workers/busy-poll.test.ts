import { expect } from 'chai';
import { BusyPoll, busyPollFor, threadBusyPoll } from '../../../src/workers/busy-poll';

const immediate = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('iSCSI busy polling after writes', () => {
  it('keeps the loop turning for the window, then stops by itself', async () => {
    const p = new BusyPoll(2000); // 2 ms
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
    const p = new BusyPoll(5000);
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
    const p = new BusyPoll(0);
    p.touch();
    expect(p.polling).to.equal(false);
    await immediate();
    expect(p.stats).to.deep.equal({ windows: 0, turns: 0 });
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
