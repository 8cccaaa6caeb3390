import { expect } from 'chai';
import { BATCH, LOAD_COMMANDS, ResponseCoalescer } from '../../../src/transports/iscsi/coalesce';

/** Feeds `reads` socket reads of `perRead` commands each. */
function load(c: ResponseCoalescer, reads: number, perRead: number): void {
  for (let r = 0; r < reads; r++) {
    c.readStarted();
    for (let i = 0; i < perRead; i++) c.commandArrived();
  }
  c.readStarted();
}

/** How many of `n` queued responses asked for a write. */
function writes(c: ResponseCoalescer, n: number): number {
  let w = 0;
  for (let i = 0; i < n; i++) if (c.responseQueued()) w++;
  return w;
}

describe('iSCSI response coalescing', () => {
  it('writes every response at once while reads bring few commands', () => {
    const c = new ResponseCoalescer();
    load(c, 40, 8);
    expect(c.commandsPerRead).to.be.lessThan(LOAD_COMMANDS);
    expect(writes(c, 5)).to.equal(5);
  });

  it('writes every BATCH responses once reads bring many commands', () => {
    const c = new ResponseCoalescer();
    load(c, 40, 24);
    expect(c.commandsPerRead).to.be.greaterThan(LOAD_COMMANDS);
    expect(BATCH).to.equal(8);
    expect(writes(c, 7)).to.equal(0);
    expect(c.responseQueued()).to.equal(true);
    expect(writes(c, 16)).to.equal(2);
  });

  it('starts a new batch after any write', () => {
    const c = new ResponseCoalescer();
    load(c, 40, 24);
    expect(writes(c, 5)).to.equal(0);
    c.flushed();
    expect(writes(c, 7)).to.equal(0);
    expect(c.responseQueued()).to.equal(true);
  });

  it('follows the load down again: the average forgets old reads', () => {
    const c = new ResponseCoalescer();
    load(c, 40, 32);
    expect(writes(c, 1)).to.equal(0);
    c.flushed();
    // 1/8 weight: 40 reads of 32 leave 32 * (1 - (7/8)^40) ≈ 31.85; 24 reads of 1 then give
    // 1 + 30.85 * (7/8)^24 ≈ 2.25.
    load(c, 24, 1);
    expect(c.commandsPerRead).to.be.within(2.2, 2.3);
    expect(writes(c, 3)).to.equal(3);
  });

  it('does not count reads that brought no SCSI command (Data-Out only)', () => {
    const c = new ResponseCoalescer();
    load(c, 40, 20);
    const before = c.commandsPerRead;
    for (let i = 0; i < 50; i++) c.readStarted();
    expect(c.commandsPerRead).to.equal(before);
  });
});
