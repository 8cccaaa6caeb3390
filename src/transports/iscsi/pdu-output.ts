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

const ZERO_PAD = Buffer.alloc(4);

/**
 * The releases of one written batch, run by the socket once the batch is out. Batches are reused
 * (with their callback, made once), so a batch of Data-In views allocates nothing.
 */
class WrittenBatch {
  releases: Array<() => void> = [];
  readonly written: () => void;

  constructor(spare: WrittenBatch[]) {
    this.written = () => {
      for (let i = 0; i < this.releases.length; i++) this.releases[i]();
      this.releases.length = 0;
      spare.push(this);
    };
  }
}
/** Per-connection scratch for target PDU headers, digests and sense segments (DESIGN.md §10). */
const SCRATCH_BYTES = 16384;

export class PduOutput {
  private readonly out: Uint8Array[] = [];
  /** Completions whose Data-In views are queued in `out`: released once written. */
  private releases: Array<() => void> = [];
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
    const all = Buffer.concat(this.out);
    this.out.length = 0;
    this.scratchUsed = 0;
    return all;
  }

  /** The connection is gone: nothing queued is written, and every Data-In buffer goes back. */
  discard(): void {
    this.closed = true;
    this.out.length = 0;
    this.releaseAll();
  }

  private releaseAll(): void {
    for (const r of this.releases.splice(0)) r();
  }

  /** One corked write for everything queued (DESIGN.md §10). */
  flush(): void {
    this.coalescer.flushed();
    const socket = this.socket;
    if (this.out.length === 0 || this.closed || socket.destroyed) {
      this.out.length = 0;
      this.releaseAll();
      if (socket.writableLength === 0) this.scratchUsed = 0;
      return;
    }
    const parts = this.out;
    const last = parts.length - 1;
    // Data-In views of pool buffers go back to the pool once the batch is written.
    let batch: WrittenBatch | undefined;
    if (this.releases.length > 0) {
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
    parts.length = 0;
    // The initiator's next command is likely on its way: poll for it instead of sleeping.
    this.busyPoll?.touch();
    // Headers in the scratch are referenced by the write until it completes.
    if (socket.writableLength === 0) this.scratchUsed = 0;
    else {
      this.scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
      this.scratchUsed = 0;
    }
    // Back-pressure: stop reading while the initiator is not draining our responses, so what we
    // buffer for it stays bounded by the commands it already had in flight (its CmdSN window).
    // One that drains nothing for sendTimeoutSec is dropped: its session is lost (RFC 7143 6.3).
    if (socket.writableNeedDrain && this.backpressure && !this.stalled) {
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
