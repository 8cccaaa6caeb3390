/**
 * LBA range locks: the serialization that makes COMPARE AND WRITE and ORWRITE atomic against every
 * other command touching the same blocks (SBC-4 COMPARE AND WRITE: "the device server shall ... perform the
 * compare and write operations as an uninterrupted series of actions"; 5.21 ORWRITE likewise).
 *
 * Reads take a shared lock, writes and read-modify-write commands an exclusive one. Grants are
 * FIFO among conflicting requests: a request waits for every earlier request (held or waiting)
 * whose range overlaps it unless both are shared. Non-overlapping ranges never wait on each other,
 * so ordinary I/O to different blocks runs concurrently.
 */

export type Unlock = () => void;

interface Entry {
  readonly start: bigint;
  /** Exclusive end. */
  readonly end: bigint;
  readonly exclusive: boolean;
  granted: boolean;
  grant?: () => void;
}

function conflicts(a: Entry, b: Entry): boolean {
  return (a.exclusive || b.exclusive) && a.start < b.end && b.start < a.end;
}

export class RangeLock {
  /** Held and waiting entries in arrival order. */
  private readonly entries: Entry[] = [];

  /** Entries currently held or waiting (tests, diagnostics). */
  get size(): number { return this.entries.length; }

  /**
   * Whether a request for `count` blocks from `start` would have to wait now. When it would not,
   * an operation that completes synchronously (without yielding to the event loop) may run
   * without taking the lock at all: no other command can observe it in between, and the FIFO
   * order holds because no earlier conflicting request exists.
   */
  wouldBlock(start: number | bigint, count: number | bigint, exclusive: boolean): boolean {
    const entries = this.entries;
    // Nothing held or waiting (the common case): answered without a BigInt.
    if (entries.length === 0) return false;
    const first = BigInt(start);
    const n = BigInt(count);
    const end = first + (n > 0n ? n : 1n);
    for (let i = 0; i < entries.length; i++) {
      const o = entries[i];
      if ((o.exclusive || exclusive) && o.start < end && first < o.end) return true;
    }
    return false;
  }

  /**
   * Lock `count` blocks from `start`. A zero-length range still orders against overlapping
   * exclusive holders of its first block, so it is widened to one block.
   */
  acquire(start: bigint, count: bigint, exclusive: boolean): Promise<Unlock> {
    const e: Entry = { start, end: start + (count > 0n ? count : 1n), exclusive, granted: false };
    const blocked = this.entries.some(o => conflicts(o, e));
    this.entries.push(e);
    const unlock = this.unlockFor(e);
    if (!blocked) {
      e.granted = true;
      return Promise.resolve(unlock);
    }
    return new Promise<Unlock>(resolve => { e.grant = () => resolve(unlock); });
  }

  private unlockFor(e: Entry): Unlock {
    let done = false;
    return () => {
      if (done) return; // idempotent: a second call is a no-op, not a double release
      done = true;
      const i = this.entries.indexOf(e);
      if (i >= 0) this.entries.splice(i, 1);
      this.wake();
    };
  }

  /** Grant every waiter that no earlier entry conflicts with (FIFO among conflicts). */
  private wake(): void {
    for (let i = 0; i < this.entries.length; i++) {
      const w = this.entries[i];
      if (w.granted) continue;
      let free = true;
      for (let j = 0; j < i; j++) if (conflicts(this.entries[j], w)) { free = false; break; }
      if (free) {
        w.granted = true;
        const g = w.grant;
        w.grant = undefined;
        g?.();
      }
    }
  }
}

/** One lock table per backing store: every LU view of the same store shares it. */
const locks = new WeakMap<object, RangeLock>();

export function rangeLockFor(owner: object): RangeLock {
  let l = locks.get(owner);
  if (!l) locks.set(owner, (l = new RangeLock()));
  return l;
}
