// RFC 7143 10.2 / 13.1: a connection's output side. Target PDUs are queued as BHS, header digest,
// data, padding and data digest, and written in one corked write per batch (DESIGN.md §10: one
// socket write per batch of responses). Headers, digests and sense segments come from a
// per-connection scratch that is reused once the batch holding them has been written; the
// coalescer decides when a batch is worth writing; a peer that does not drain stops our reading.
import type { Duplex } from 'node:stream';
import { BHS_LENGTH } from './spec';
import { paddedLength } from './bhs';
import { dataDigest, headerDigest, writeDigest } from './digest';
import { ResponseCoalescer } from './coalesce';
import { BusyPoll, busyPollFor } from '../fabric';
import { transportDefault } from './settings';
import type { ConnectionStatistics } from './connection-statistics';

const ZERO_PAD = Buffer.alloc(4);
const EMPTY = new Uint8Array(0);
const NOTHING = (): void => undefined;

/**
 * Output bytes buffered for a peer above which its input pauses until it drains (and after
 * sendTimeoutSec without draining it is dropped). Sized above one coalesced batch of Data-In
 * (8 x 4 KiB, or a few 64 KiB segments) so that a peer that reads at its own pace is not paused
 * after every batch: pausing at the stream's 16 KiB high-water mark stopped and restarted the
 * input of a QD32 or four-session reader for nearly every write.
 */
export const STALL_BYTES = 256 * 1024;

/**
 * A list that is emptied by count, not by `length = 0` (which V8 runs as a runtime call, a few
 * per cent of the thread at high IOPS); emptied slots are overwritten so nothing written is kept.
 */
class Slots<T> {
  readonly items: T[] = [];
  count = 0;
  constructor(private readonly blank: T) {}
  push(x: T): void {
    this.items[this.count++] = x;
  }
  clear(): void {
    const items = this.items;
    for (let i = 0; i < this.count; i++) items[i] = this.blank;
    this.count = 0;
  }
}

/**
 * The releases of one written batch, run by the socket once the batch is out. Batches are reused
 * (with their callback, made once), so a batch of Data-In views allocates nothing.
 */
class WrittenBatch {
  releases = new Slots<() => void>(NOTHING);
  readonly written: () => void;

  constructor(spare: WrittenBatch[]) {
    this.written = () => {
      const r = this.releases;
      for (let i = 0; i < r.count; i++) r.items[i]();
      r.clear();
      spare.push(this);
    };
  }
}
/** Per-connection scratch for target PDU headers, digests and sense segments (DESIGN.md §10). */
const SCRATCH_BYTES = 16384;

export class PduOutput {
  private readonly out = new Slots<Uint8Array>(EMPTY);
  /** Completions whose Data-In views are queued in `out`: released once written. */
  private releases = new Slots<() => void>(NOTHING);
  private readonly spareBatches: WrittenBatch[] = [];
  private scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private scratchUsed = 0;
  private flushScheduled = false;
  private headerDigests = false;
  private dataDigests = false;
  /** Input is being handled: what is queued now is written when the handler ends. */
  inHandler = false;
  /** Nothing more is written (the connection is gone). */
  closed = false;
  /** Stop reading while the peer does not drain our output (full feature phase only). */
  backpressure = false;
  /** The connection's counters: every PDU queued is counted by opcode (connection-statistics.ts). */
  statistics: ConnectionStatistics | undefined = undefined;
  readonly coalescer = new ResponseCoalescer();
  private readonly busyPoll: BusyPoll | undefined;
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Reading is paused until the peer drains our output (sendTimeoutSec runs meanwhile). */
  private stalled = false;

  /** `sendTimeoutSec`: how long a peer may leave our output undrained before it is dropped. */
  constructor(private readonly socket: Duplex, busyPollMicros: number, private readonly sendTimeoutSec = transportDefault('sendTimeoutSec')) {
    this.busyPoll = busyPollFor(busyPollMicros);
  }

  /** RFC 7143 13.1: the negotiated digests apply to every PDU after the final Login Response. */
  setDigests(header: boolean, data: boolean): void {
    this.headerDigests = header;
    this.dataDigests = data;
  }

  /** A BHS from the scratch (encoders zero all 48 bytes). */
  bhs(): Buffer {
    return this.scratchBytes(BHS_LENGTH);
  }

  /**
   * `n` bytes of scratch that stay untouched until the batch they belong to is written: the
   * scratch is rewound after a flush the socket took whole, and replaced (the old one left to the
   * pending write) when it did not.
   */
  scratchBytes(n: number): Buffer {
    if (this.scratchUsed + n > this.scratch.length) {
      this.scratch = Buffer.allocUnsafe(Math.max(SCRATCH_BYTES, n));
      this.scratchUsed = 0;
    }
    const b = this.scratch.subarray(this.scratchUsed, this.scratchUsed + n);
    this.scratchUsed += (n + 7) & ~7;
    return b;
  }

  /** Queue one PDU: BHS, header digest, data, padding, data digest. */
  queue(bhs: Buffer, data: Uint8Array, hd = this.headerDigests, dd = this.dataDigests): void {
    if (this.closed) return;
    this.statistics?.sent(bhs[0], bhs.length + data.length);
    this.out.push(bhs);
    if (hd) {
      const d = this.scratchBytes(4);
      writeDigest(d, 0, headerDigest(bhs));
      this.out.push(d);
    }
    if (data.length === 0) return;
    this.out.push(data);
    const pad = paddedLength(data.length) - data.length;
    if (pad > 0) this.out.push(ZERO_PAD.subarray(0, pad));
    if (dd) {
      const d = this.scratchBytes(4);
      writeDigest(d, 0, dataDigest(data));
      this.out.push(d);
    }
  }

  /** `release` runs once what is queued now has been written (a completion's Data-In buffer). */
  releaseAfterWrite(release: () => void): void {
    this.releases.push(release);
  }

  /** A response was queued: written now when the coalescer says so, else at the next turn. */
  responseQueued(): void {
    if (this.coalescer.responseQueued()) this.flush();
    else this.scheduleFlush();
  }

  /** Write what is queued once the current input (or this turn of the event loop) is done. */
  scheduleFlush(): void {
    if (this.inHandler || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  /** Everything queued, as one buffer, taken off the queue (the final Login Response of a hand-off). */
  take(): Buffer {
    const all = Buffer.concat(this.out.items.slice(0, this.out.count));
    this.out.clear();
    this.scratchUsed = 0;
    return all;
  }

  /** The connection is gone: nothing queued is written, and every Data-In buffer goes back. */
  discard(): void {
    this.closed = true;
    this.out.clear();
    this.releaseAll();
  }

  private releaseAll(): void {
    const r = this.releases;
    const n = r.count;
    if (n === 0) return;
    const fns = r.items.slice(0, n);
    r.clear();
    for (let i = 0; i < n; i++) fns[i]();
  }

  /** One corked write for everything queued (DESIGN.md §10). */
  flush(): void {
    this.coalescer.flushed();
    const socket = this.socket;
    if (this.out.count === 0 || this.closed || socket.destroyed) {
      this.out.clear();
      this.releaseAll();
      if (socket.writableLength === 0) this.scratchUsed = 0;
      return;
    }
    const parts = this.out.items;
    const last = this.out.count - 1;
    // Data-In views of pool buffers go back to the pool once the batch is written.
    let batch: WrittenBatch | undefined;
    if (this.releases.count > 0) {
      batch = this.spareBatches.pop() ?? new WrittenBatch(this.spareBatches);
      // The queued releases travel with the batch; its empty list becomes the next queue.
      const empty = batch.releases;
      batch.releases = this.releases;
      this.releases = empty;
    }
    socket.cork();
    for (let i = 0; i < last; i++) socket.write(parts[i]);
    if (batch) socket.write(parts[last], batch.written);
    else socket.write(parts[last]);
    socket.uncork();
    this.out.clear();
    // The initiator's next command is likely on its way: poll for it instead of sleeping.
    this.busyPoll?.touch();
    // Headers in the scratch are referenced by the write until it completes: the scratch is
    // rewound only once the socket holds nothing of ours; meanwhile new headers go after them
    // (scratchBytes moves to a new scratch when this one is full).
    if (socket.writableLength === 0) this.scratchUsed = 0;
    // Back-pressure: stop reading while the initiator is not draining our responses, so what we
    // buffer for it stays bounded by the commands it already had in flight (its CmdSN window).
    // One that drains nothing for sendTimeoutSec is dropped: its session is lost (RFC 7143 6.3).
    // A write that leaves more than STALL_BYTES (above the high-water mark) buffered returned
    // false, so 'drain' follows once the peer took it all.
    if (socket.writableLength > STALL_BYTES && this.backpressure && !this.stalled) {
      this.stalled = true;
      socket.pause();
      const timer = setTimeout(() => {
        if (this.stalled && !socket.destroyed) socket.destroy();
      }, this.sendTimeoutSec * 1000);
      timer.unref();
      socket.once('drain', () => {
        this.stalled = false;
        clearTimeout(timer);
        socket.resume();
      });
    }
  }
}
