// RFC 7143 11.8 / 3.2.4.3: solicited data. The target asks for the part of a write that was not
// sent unsolicited with R2Ts of at most MaxBurstLength each, at most MaxOutstandingR2T at a time,
// numbered by R2TSN per task and tagged with a Target Transfer Tag the Data-Out echoes.
import { RESERVED_TAG } from './spec';

export interface R2tRequest {
  ttt: number;
  r2tSN: number;
  bufferOffset: number;
  desiredDataTransferLength: number;
}

/** One outstanding R2T: what it asked for and how far the answer has come. */
export interface OpenR2t extends R2tRequest {
  nextOffset: number;
  nextDataSN: number;
}

/**
 * Hands out R2Ts for [from, to) of a task in order. A planner is reset for the next write of a
 * reused task; its R2T records are kept for reuse once their bursts complete (DESIGN.md §10).
 */
export class R2tPlanner {
  private nextOffset = 0;
  private to = 0;
  private maxBurst = 0;
  private maxOutstanding = 0;
  private r2tSN = 0;
  readonly open = new Map<number, OpenR2t>();
  /** What issue() returns, reused: the caller sends the R2Ts before calling issue() again. */
  private readonly issued: R2tRequest[] = [];
  private readonly spare: OpenR2t[] = [];

  constructor(private readonly allocTtt: () => number) {}

  /** Plan [from, to) in bursts of at most maxBurst, at most maxOutstanding open at a time. */
  reset(from: number, to: number, maxBurst: number, maxOutstanding: number): void {
    for (const r of this.open.values()) this.spare.push(r);
    this.open.clear();
    this.nextOffset = from;
    this.to = to;
    this.maxBurst = maxBurst;
    this.maxOutstanding = maxOutstanding;
    this.r2tSN = 0;
  }

  /** Bytes not yet requested. */
  get unrequested(): number {
    return this.to - this.nextOffset;
  }

  /**
   * RFC 7143 3.2.4.3: issue R2Ts while fewer than MaxOutstandingR2T are open. The list is reused
   * by the next call (no allocation per Data-Out PDU), so it is to be consumed at once.
   */
  issue(): R2tRequest[] {
    const out = this.issued;
    out.length = 0;
    while (this.open.size < this.maxOutstanding && this.nextOffset < this.to) {
      const len = Math.min(this.maxBurst, this.to - this.nextOffset);
      const r = this.spare.pop() ?? { ttt: 0, r2tSN: 0, bufferOffset: 0, desiredDataTransferLength: 0, nextOffset: 0, nextDataSN: 0 };
      r.ttt = this.allocTtt();
      r.r2tSN = this.r2tSN++;
      r.bufferOffset = this.nextOffset;
      r.desiredDataTransferLength = len;
      r.nextOffset = this.nextOffset;
      r.nextDataSN = 0;
      this.nextOffset += len;
      this.open.set(r.ttt, r);
      out.push(r);
    }
    return out;
  }

  /** The burst answering this R2T is complete: its record serves a later R2T. */
  close(ttt: number): void {
    const r = this.open.get(ttt);
    if (r === undefined) return;
    this.open.delete(ttt);
    this.spare.push(r);
  }

  get count(): number {
    return this.r2tSN;
  }
}

/** A tag generator that never yields the reserved 0xffffffff. */
export function tagAllocator(start = 1): () => number {
  let t = start >>> 0;
  return () => {
    const v = t;
    t = (t + 1) >>> 0;
    if (t === RESERVED_TAG) t = 1;
    return v === RESERVED_TAG ? 1 : v;
  };
}
