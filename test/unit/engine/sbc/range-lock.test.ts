import { expect } from 'chai';
import { RangeLock, rangeLockFor, type Unlock } from '../../../../src/engine/range-lock';

// SBC-4 5.3 (COMPARE AND WRITE) and 5.21 (ORWRITE) must run as an uninterrupted series of actions
// against other commands on the same blocks; RangeLock is how. Its promises: shared over shared
// never waits; anything with an exclusive side waits for every EARLIER overlapping request, held
// or waiting (FIFO among conflicts); disjoint ranges never wait; a release grants every waiter
// that no earlier entry conflicts with any more.

/** Let granted promises run their continuations (a grant resolves a promise). */
const settle = () => new Promise<void>(r => setImmediate(r));

/** A lock request whose grant is observable without awaiting it. */
interface Req { readonly name: string; granted: boolean; unlock?: Unlock }

/** Requests in the order they are made, and the order in which they were granted. */
function recorder(lock: RangeLock) {
  const grants: string[] = [];
  const ask = (name: string, start: bigint, count: bigint, exclusive: boolean): Req => {
    const r: Req = { name, granted: false };
    void lock.acquire(start, count, exclusive).then(u => { r.granted = true; r.unlock = u; grants.push(name); });
    return r;
  };
  const release = (r: Req): void => {
    expect(r.granted, `${r.name} released before it was granted`).to.equal(true);
    r.unlock!();
  };
  return { grants, ask, release };
}

describe('RangeLock', () => {
  it('shared requests over overlapping ranges are all granted at once', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const a = ask('a', 0n, 10n, false);
    const b = ask('b', 5n, 10n, false);
    const c = ask('c', 9n, 1n, false);
    await settle();
    expect(grants).to.deep.equal(['a', 'b', 'c']);
    expect(l.size).to.equal(3);
    release(a); release(b); release(c);
    expect(l.size).to.equal(0);
  });

  it('an exclusive request waits for an overlapping shared holder and is granted on its release', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const reader = ask('reader', 0n, 4n, false);
    const writer = ask('writer', 3n, 1n, true);
    await settle();
    expect(grants).to.deep.equal(['reader']);
    expect(writer.granted).to.equal(false);
    expect(l.size).to.equal(2); // held and waiting both count
    release(reader);
    await settle();
    expect(grants).to.deep.equal(['reader', 'writer']);
    release(writer);
    expect(l.size).to.equal(0);
  });

  it('a shared request waits for an overlapping exclusive holder', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const writer = ask('writer', 10n, 10n, true);
    const reader = ask('reader', 19n, 5n, false);
    await settle();
    expect(reader.granted).to.equal(false);
    release(writer);
    await settle();
    expect(grants).to.deep.equal(['writer', 'reader']);
    release(reader);
  });

  it('disjoint ranges never wait, exclusive or not; adjacent ranges are disjoint', async () => {
    const l = new RangeLock();
    const { grants, ask } = recorder(l);
    ask('a', 0n, 4n, true);
    ask('b', 4n, 4n, true); // [4, 8) touches [0, 4) without overlapping
    ask('c', 100n, 1n, true);
    ask('d', 8n, 92n, false); // [8, 100) fills the gap exactly
    await settle();
    expect(grants).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(l.size).to.equal(4);
  });

  it('conflicting requests are granted in arrival order; a waiter no earlier one conflicts with is not held back', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const a = ask('a', 0n, 10n, true);
    const b = ask('b', 5n, 10n, true);
    const c = ask('c', 0n, 1n, true);
    const d = ask('d', 9n, 2n, true);
    await settle();
    expect(grants).to.deep.equal(['a']);
    release(a);
    await settle();
    // c overlaps a only, but b (earlier, waiting) does not overlap c: c is granted beside b.
    // d overlaps b, which arrived first: d keeps waiting.
    expect(grants).to.deep.equal(['a', 'b', 'c']);
    expect(d.granted).to.equal(false);
    release(c);
    await settle();
    expect(d.granted).to.equal(false);
    release(b);
    await settle();
    expect(grants).to.deep.equal(['a', 'b', 'c', 'd']);
    release(d);
    expect(l.size).to.equal(0);
  });

  it('a request waits for an earlier WAITING request it overlaps, even when no holder overlaps it', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const a = ask('a', 0n, 4n, true);
    const b = ask('b', 2n, 4n, true); // [2, 6): waits for a
    const c = ask('c', 5n, 2n, true); // [5, 7): a does not overlap it, waiting b does
    await settle();
    expect(grants).to.deep.equal(['a']);
    release(a);
    await settle();
    expect(grants).to.deep.equal(['a', 'b']);
    release(b);
    await settle();
    expect(grants).to.deep.equal(['a', 'b', 'c']);
    release(c);
  });

  it('FIFO among conflicts: a shared request behind a waiting exclusive one waits, though the holder is shared', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const r1 = ask('r1', 0n, 1n, false);
    const w = ask('w', 0n, 1n, true);
    const r2 = ask('r2', 0n, 1n, false);
    await settle();
    expect(grants).to.deep.equal(['r1']);
    release(r1);
    await settle();
    expect(grants).to.deep.equal(['r1', 'w']);
    expect(r2.granted).to.equal(false);
    release(w);
    await settle();
    expect(grants).to.deep.equal(['r1', 'w', 'r2']);
    release(r2);
    expect(l.size).to.equal(0);
  });

  it('a release wakes every waiter it was the last conflict of, and only those', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const a = ask('a', 0n, 8n, true);
    const z = ask('z', 6n, 4n, true); // [6, 10): overlaps a
    const r1 = ask('r1', 0n, 2n, false);
    const r2 = ask('r2', 2n, 2n, false);
    const r3 = ask('r3', 7n, 1n, false); // overlaps a and the waiting z
    await settle();
    expect(grants).to.deep.equal(['a']);
    release(a);
    await settle();
    expect(grants).to.deep.equal(['a', 'z', 'r1', 'r2']);
    expect(r3.granted).to.equal(false);
    release(z);
    await settle();
    expect(grants).to.deep.equal(['a', 'z', 'r1', 'r2', 'r3']);
    release(r1); release(r2); release(r3);
    expect(l.size).to.equal(0);
  });

  it('a zero-length request is widened to its first block', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const a = ask('a', 5n, 1n, true);
    const same = ask('same', 5n, 0n, false);
    const next = ask('next', 6n, 0n, true);
    await settle();
    expect(grants).to.deep.equal(['a', 'next']);
    release(a);
    await settle();
    expect(grants).to.deep.equal(['a', 'next', 'same']);
    release(same); release(next);
  });

  it('unlock is idempotent: a second call does not release the next holder', async () => {
    const l = new RangeLock();
    const { grants, ask } = recorder(l);
    const a = ask('a', 0n, 4n, true);
    ask('b', 0n, 4n, true);
    const c = ask('c', 0n, 4n, true);
    await settle();
    a.unlock!();
    await settle();
    expect(grants).to.deep.equal(['a', 'b']);
    a.unlock!();
    await settle();
    expect(grants).to.deep.equal(['a', 'b']);
    expect(c.granted).to.equal(false);
    expect(l.size).to.equal(2);
  });

  it('works at the top of the 64-bit LBA space', async () => {
    const l = new RangeLock();
    const { grants, ask, release } = recorder(l);
    const top = (1n << 64n) - 1n;
    const a = ask('a', top, 1n, true);
    const below = ask('below', top - 1n, 1n, true);
    const waiting = ask('waiting', top, 0n, true);
    await settle();
    expect(grants).to.deep.equal(['a', 'below']);
    release(a);
    await settle();
    expect(grants).to.deep.equal(['a', 'below', 'waiting']);
    release(below); release(waiting);
    expect(l.size).to.equal(0);
  });
});

describe('RangeLock.wouldBlock', () => {
  it('answers false on an empty table and for shared-over-shared overlaps', async () => {
    const l = new RangeLock();
    expect(l.wouldBlock(0n, 8n, true)).to.equal(false);
    const u = await l.acquire(0n, 8n, false);
    expect(l.wouldBlock(4n, 8n, false)).to.equal(false);
    expect(l.wouldBlock(4n, 8n, true)).to.equal(true);
    expect(l.wouldBlock(8n, 8n, true)).to.equal(false); // adjacency is not overlap
    u();
    expect(l.wouldBlock(4n, 8n, true)).to.equal(false);
  });

  it('a zero-length request still orders against an exclusive holder of its first block', async () => {
    const l = new RangeLock();
    const u = await l.acquire(5n, 1n, true);
    expect(l.wouldBlock(5n, 0n, false)).to.equal(true);
    expect(l.wouldBlock(6n, 0n, false)).to.equal(false);
    u();
  });

  it('a waiting request counts: later requests do not overtake it', async () => {
    const l = new RangeLock();
    const held = await l.acquire(0n, 4n, false);
    const waiting = l.acquire(0n, 4n, true);
    // Shared over the shared holder would be fine, but the exclusive waiter is queued first.
    expect(l.wouldBlock(2n, 1n, false)).to.equal(true);
    held();
    (await waiting)();
    expect(l.wouldBlock(2n, 1n, false)).to.equal(false);
  });
});

describe('rangeLockFor', () => {
  it('one lock table per backing store, shared by every view of it', async () => {
    const store = {};
    const other = {};
    expect(rangeLockFor(store)).to.equal(rangeLockFor(store));
    expect(rangeLockFor(other)).to.not.equal(rangeLockFor(store));
    const u = await rangeLockFor(store).acquire(0n, 1n, true);
    expect(rangeLockFor(store).wouldBlock(0n, 1n, false)).to.equal(true);
    expect(rangeLockFor(other).wouldBlock(0n, 1n, false)).to.equal(false);
    u();
  });
});
