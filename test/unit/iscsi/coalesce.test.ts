import { expect } from 'chai';
import type { CpuShare } from '../../../src/transports/fabric';
import { BATCH, LOAD_COMMANDS, ResponseCoalescer, threadTurnLoad, TurnLoad } from '../../../src/transports/iscsi/coalesce';

/** A core the test says is shared or not. */
class FakeCpu implements CpuShare {
  contended = false;
  ticks = 0;
  tick(): void { this.ticks++; }
}

/** A TurnLoad whose turns end when the test says so, on a core of its own unless `cpu` says otherwise. */
function manualTurns(cpu = new FakeCpu()): { load: TurnLoad; pending: () => number } {
  let scheduled: Array<() => void> = [];
  const load = new TurnLoad((fn) => { scheduled.push(fn); }, cpu);
  return { load, pending: () => scheduled.length };
}

/** `turns` event-loop turns, in each of which every connection gets `perConnection` commands. */
function turns(load: TurnLoad, connections: ResponseCoalescer[], n: number, perConnection: number): void {
  for (let t = 0; t < n; t++) {
    for (const c of connections) for (let i = 0; i < perConnection; i++) c.commandArrived();
    load.fold();
  }
}

/** How many of `n` queued responses asked for a write. */
function writes(c: ResponseCoalescer, n: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) if (c.responseQueued()) w++;
  return w;
}

describe('iSCSI response coalescing', () => {
  it('writes every response at once while turns bring few commands (one session at QD8)', () => {
    const { load } = manualTurns();
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 8);
    expect(load.commandsPerTurn).to.be.at.most(LOAD_COMMANDS);
    expect(writes(c, 5)).to.equal(5);
  });

  it('writes every BATCH responses once turns bring many commands', () => {
    const { load } = manualTurns();
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 24);
    expect(load.commandsPerTurn).to.be.greaterThan(LOAD_COMMANDS);
    expect(BATCH).to.equal(8);
    expect(writes(c, 7)).to.equal(0);
    expect(c.responseQueued()).to.equal(true);
    expect(writes(c, 16)).to.equal(2);
  });

  it('counts the commands of every connection on the thread: four sessions at QD8 coalesce', () => {
    const { load } = manualTurns();
    const sessions = [0, 1, 2, 3].map(() => new ResponseCoalescer(load));
    turns(load, sessions, 40, 6);
    expect(load.commandsPerTurn).to.be.greaterThan(LOAD_COMMANDS);
    for (const s of sessions) expect(writes(s, 7)).to.equal(0);
    // One session alone with the same reads would not.
    const { load: alone } = manualTurns();
    const one = new ResponseCoalescer(alone);
    turns(alone, [one], 40, 6);
    expect(writes(one, 3)).to.equal(3);
  });

  it('starts a new batch after any write', () => {
    const { load } = manualTurns();
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 24);
    expect(writes(c, 5)).to.equal(0);
    c.flushed();
    expect(writes(c, 7)).to.equal(0);
    expect(c.responseQueued()).to.equal(true);
  });

  it('follows the load down again: the average forgets old turns', () => {
    const { load } = manualTurns();
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 32);
    expect(writes(c, 1)).to.equal(0);
    c.flushed();
    // 1/8 weight: 40 turns of 32 leave 32 * (1 - (7/8)^40) ≈ 31.85; 24 turns of 1 then give
    // 1 + 30.85 * (7/8)^24 ≈ 2.25.
    turns(load, [c], 24, 1);
    expect(load.commandsPerTurn).to.be.within(2.2, 2.3);
    expect(writes(c, 3)).to.equal(3);
  });

  it('does not count turns that brought no SCSI command (Data-Out only, timers)', () => {
    const { load } = manualTurns();
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 20);
    const before = load.commandsPerTurn;
    for (let i = 0; i < 50; i++) load.fold();
    expect(load.commandsPerTurn).to.equal(before);
  });

  it('schedules one end-of-turn fold per busy turn, none while idle', () => {
    const { load, pending } = manualTurns();
    expect(pending()).to.equal(0);
    load.commandArrived();
    load.commandArrived();
    load.commandArrived();
    expect(pending()).to.equal(1);
    load.fold();
    expect(load.commandsPerTurn).to.equal(3 * 0.125);
    load.commandArrived();
    expect(pending()).to.equal(2);
  });

  it('on a shared core, writes every BATCH responses even while turns bring few commands', () => {
    const cpu = new FakeCpu();
    const { load } = manualTurns(cpu);
    const c = new ResponseCoalescer(load);
    turns(load, [c], 40, 4);
    expect(load.commandsPerTurn).to.be.at.most(LOAD_COMMANDS);
    expect(writes(c, 3)).to.equal(3);
    cpu.contended = true;
    expect(load.contended).to.equal(true);
    expect(writes(c, 7)).to.equal(0);
    expect(c.responseQueued()).to.equal(true);
    // The end of the socket read writes what is left (PduOutput.flush), and the batch restarts.
    expect(writes(c, 3)).to.equal(0);
    c.flushed();
    expect(writes(c, 8)).to.equal(1);
    // The core is the thread's again: every response at once.
    cpu.contended = false;
    c.flushed();
    expect(writes(c, 3)).to.equal(3);
  });

  it('asks the core gauge once per busy turn, never while idle', () => {
    const cpu = new FakeCpu();
    const { load } = manualTurns(cpu);
    const c = new ResponseCoalescer(load);
    turns(load, [c], 5, 3);
    expect(cpu.ticks).to.equal(5);
  });

  it('ends a turn at the check phase of the event loop, for the thread shared by its connections', async () => {
    const shared = threadTurnLoad();
    expect(threadTurnLoad()).to.equal(shared);
    const before = shared.commandsPerTurn;
    for (let i = 0; i < 40; i++) shared.commandArrived();
    expect(shared.commandsPerTurn).to.equal(before);
    await new Promise((r) => setImmediate(r));
    expect(shared.commandsPerTurn).to.equal(before + (40 - before) * 0.125);
  });
});
