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

/** Hands out R2Ts for [from, to) of a task in order. */
export class R2tPlanner {
  private nextOffset: number;
  private r2tSN = 0;
  readonly open = new Map<number, OpenR2t>();
  /** What issue() returns, reused: the caller sends the R2Ts before calling issue() again. */
  private readonly issued: R2tRequest[] = [];

  constructor(
    from: number,
    private readonly to: number,
    private readonly maxBurst: number,
    private readonly maxOutstanding: number,
    private readonly allocTtt: () => number,
  ) {
    this.nextOffset = from;
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
      const r: OpenR2t = {
        ttt: this.allocTtt(), r2tSN: this.r2tSN++, bufferOffset: this.nextOffset, desiredDataTransferLength: len,
        nextOffset: this.nextOffset, nextDataSN: 0,
      };
      this.nextOffset += len;
      this.open.set(r.ttt, r);
      out.push(r);
    }
    return out;
  }

  /** The burst answering this R2T is complete. */
  close(ttt: number): void {
    this.open.delete(ttt);
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
