// RFC 7143 3.2.4.2 / 11.3.1 / 11.7: collecting a write's data. Immediate data rides in the SCSI
// Command; with InitialR2T=No unsolicited Data-Out follows up to FirstBurstLength; the rest is
// solicited with R2Ts. DataPDUInOrder and DataSequenceInOrder are Yes, so every PDU must start
// exactly where the previous one of its sequence ended, with the next DataSN.
import { RESERVED_TAG } from './spec';
import { R2tPlanner, R2tRequest } from './r2t';

const EMPTY = Buffer.alloc(0);

export interface WriteParams {
  initialR2T: boolean;
  immediateData: boolean;
  firstBurstLength: number;
  maxBurstLength: number;
  maxOutstandingR2T: number;
}

export interface DataOutPdu {
  ttt: number;
  dataSN: number;
  bufferOffset: number;
  final: boolean;
  data: Buffer;
}

export type CollectOutcome =
  /** `r2ts` is the planner's reused list: valid until the collector is next called. */
  | { ok: true; r2ts: R2tRequest[]; complete: boolean }
  | { ok: false; reason: string; kind: DataOutErrorKind };

/**
 * RFC 7143 7.1.4: a DataSN out of sequence is a sequence error (at ERL 0 the command fails, the
 * connection stays); anything else (offsets, tags, F bit, data beyond a burst) is a protocol error.
 */
export enum DataOutErrorKind {
  SEQUENCE = 'sequence',
  PROTOCOL = 'protocol',
}

/**
 * RFC 7143 3.2.4.2 / 11.3.1.1: the checks on a write's start (immediate data and the F bit against
 * the negotiated keys). Returns the end of the unsolicited region, or the violation.
 */
export function checkWriteStart(
  expectedLength: number, immediateLength: number, moreUnsolicited: boolean, p: WriteParams,
): { ok: true; unsolicitedEnd: number } | { ok: false; reason: string } {
  const r = writeStart(expectedLength, immediateLength, moreUnsolicited, p);
  return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, unsolicitedEnd: r };
}

/** checkWriteStart without a result object: the unsolicited end, or the violation's text. */
function writeStart(expectedLength: number, immediateLength: number, moreUnsolicited: boolean, p: WriteParams): number | string {
  const bad = immediateDataViolation(expectedLength, immediateLength, p);
  if (bad !== undefined) return bad;
  // RFC 7143 13.11: InitialR2T=Yes forbids unsolicited Data-Out PDUs.
  if (moreUnsolicited && p.initialR2T) return 'unsolicited Data-Out with InitialR2T=Yes';
  const unsolicitedEnd = moreUnsolicited ? Math.min(p.firstBurstLength, expectedLength) : immediateLength;
  if (moreUnsolicited && unsolicitedEnd <= immediateLength) return 'F=0 with no unsolicited data left';
  return unsolicitedEnd;
}

/**
 * RFC 7143 11.3.1.1 / 13.10: immediate data only when ImmediateData=Yes, within FirstBurstLength
 * and the Expected Data Transfer Length. The violation, or undefined (nothing allocated: this is
 * the whole check of a write that is all immediate data).
 */
export function immediateDataViolation(expectedLength: number, immediateLength: number, p: WriteParams): string | undefined {
  if (immediateLength > 0 && !p.immediateData) return 'immediate data with ImmediateData=No';
  if (immediateLength > p.firstBurstLength) return 'immediate data beyond FirstBurstLength';
  if (immediateLength > expectedLength) return 'immediate data beyond Expected Data Transfer Length';
  return undefined;
}

/** Smallest pooled buffer (one page: the common 4 KiB write). */
const MIN_CLASS = 4096;
/**
 * Bytes one connection keeps on its free lists, all classes together. A single buffer beyond it is
 * still kept when the lists are empty, so a stream of large writes reuses its buffer; what one
 * connection keeps is thus at most max(KEEP_BYTES, the largest transfer, 32 MiB), whatever mix of
 * sizes it sends (each class keeping its own share would let one connection pin a share per
 * class, 176 MiB over the 14 classes).
 */
const KEEP_BYTES = 16 * 1024 * 1024;
const CLASS_KEEP_MAX = 64;

/**
 * Data-Out buffers of one connection, kept for reuse by power-of-two size class (DESIGN.md §10:
 * nothing allocated per command on the hot path). Buffers are not zero-filled: a transfer is
 * complete only once every byte of [0, EDTL) has been written (in-order sequences cover it
 * exactly), and an incomplete transfer never reaches the engine.
 */
export class DataOutBufferPool {
  /** free[k]: buffers of MIN_CLASS << k bytes. */
  private readonly free: Buffer[][] = [];
  private keptBytes = 0;

  /** A buffer of at least `length` bytes (its own memory, never a slice of Node's shared pool). */
  take(length: number): Buffer {
    const k = classOf(length);
    const buf = this.free[k]?.pop();
    if (buf === undefined) return Buffer.allocUnsafeSlow(MIN_CLASS << k);
    this.keptBytes -= buf.length;
    return buf;
  }

  /** A kept buffer of at least `length` bytes, or undefined when none is kept: never allocates. */
  takeKept(length: number): Buffer | undefined {
    const buf = this.free[classOf(length)]?.pop();
    if (buf !== undefined) this.keptBytes -= buf.length;
    return buf;
  }

  /** Give back a buffer from take() once nothing (engine, framer) can touch it any more. */
  give(buf: Buffer): void {
    const k = classOf(buf.length);
    if ((MIN_CLASS << k) !== buf.length) return;
    if (this.keptBytes > 0 && this.keptBytes + buf.length > KEEP_BYTES) return;
    const list = (this.free[k] ??= []);
    if (list.length >= CLASS_KEEP_MAX) return;
    list.push(buf);
    this.keptBytes += buf.length;
  }

  /** Buffers on the free lists (for tests). */
  get kept(): number {
    let n = 0;
    for (const l of this.free) n += l?.length ?? 0;
    return n;
  }

  /** Bytes on the free lists. */
  get bytesKept(): number {
    return this.keptBytes;
  }
}

function classOf(length: number): number {
  let k = 0;
  while ((MIN_CLASS << k) < length) k++;
  return k;
}

export type StartOutcome = { ok: true; r2ts: R2tRequest[] } | { ok: false; reason: string };

export class DataOutCollector {
  /** The task buffer's first Expected Data Transfer Length bytes. */
  buffer: Buffer = EMPTY;
  expectedLength = 0;
  private received = 0;
  /** End of the unsolicited region (immediate data plus unsolicited Data-Out). */
  private unsolicitedEnd = 0;
  private unsolicitedOffset = 0;
  private unsolicitedDataSN = 0;
  private readonly planner: R2tPlanner;

  private readonly outcome = { ok: true as const, r2ts: [] as R2tRequest[], complete: false };
  private readonly started = { ok: true as const, r2ts: [] as R2tRequest[] };

  /** `allocTtt`: the connection's Target Transfer Tags. A collector serves one write at a time. */
  constructor(allocTtt: () => number) {
    this.planner = new R2tPlanner(allocTtt);
  }

  /**
   * Start collecting for a write command. `moreUnsolicited` is the command's F bit cleared.
   * `buffer` (at least Expected Data Transfer Length bytes, e.g. from a DataOutBufferPool) is
   * where the data is assembled. Returns the collector and the first R2Ts, or a protocol violation.
   */
  static start(
    expectedLength: number, immediate: Buffer, moreUnsolicited: boolean, p: WriteParams, allocTtt: () => number,
    buffer: Buffer = Buffer.allocUnsafe(expectedLength),
  ): { ok: true; collector: DataOutCollector; r2ts: R2tRequest[] } | { ok: false; reason: string } {
    const c = new DataOutCollector(allocTtt);
    const r = c.restart(expectedLength, immediate, moreUnsolicited, p, buffer);
    return r.ok ? { ok: true, collector: c, r2ts: r.r2ts } : r;
  }

  /**
   * start() for this collector's next write (the collector of a reused task): nothing allocated
   * when the write is well formed. The returned outcome and R2T list are reused by the next call.
   */
  restart(expectedLength: number, immediate: Buffer, moreUnsolicited: boolean, p: WriteParams, buffer: Buffer): StartOutcome {
    const unsolicitedEnd = writeStart(expectedLength, immediate.length, moreUnsolicited, p);
    if (typeof unsolicitedEnd === 'string') return { ok: false, reason: unsolicitedEnd };
    // One buffer of Expected Data Transfer Length per task; every byte of it is written before the
    // transfer counts as complete (in-order sequences cover [0, EDTL) exactly), so it starts unzeroed.
    const view = buffer.length === expectedLength ? buffer : buffer.subarray(0, expectedLength);
    this.buffer = view;
    this.expectedLength = expectedLength;
    // Immediate data already assembled in place (the connection's landing) needs no copy.
    const inPlace = immediate.buffer === view.buffer && immediate.byteOffset === view.byteOffset;
    if (!inPlace) immediate.copy(view, 0);
    this.received = immediate.length;
    this.unsolicitedOffset = immediate.length;
    this.unsolicitedDataSN = 0;
    this.unsolicitedEnd = unsolicitedEnd;
    this.planner.reset(unsolicitedEnd, expectedLength, p.maxBurstLength, p.maxOutstandingR2T);
    this.started.r2ts = this.planner.issue();
    return this.started;
  }

  get complete(): boolean {
    return this.received === this.expectedLength;
  }

  /** R2Ts sent so far (counts toward ExpDataSN in the SCSI Response). */
  get r2tCount(): number {
    return this.planner.count;
  }

  /**
   * Where the data segment of a Data-Out PDU may be assembled in place: the task buffer at the
   * PDU's Buffer Offset, when that offset and DataSN are exactly the next ones of the PDU's
   * sequence (so an out-of-sequence PDU never lands over received data). undefined otherwise.
   */
  landing(ttt: number, dataSN: number, bufferOffset: number, length: number): Buffer | undefined {
    const end = bufferOffset + length;
    if (ttt === RESERVED_TAG) {
      if (dataSN !== this.unsolicitedDataSN || bufferOffset !== this.unsolicitedOffset || end > this.unsolicitedEnd) return undefined;
    } else {
      const r = this.planner.open.get(ttt);
      if (!r || dataSN !== r.nextDataSN || bufferOffset !== r.nextOffset || end > r.bufferOffset + r.desiredDataTransferLength) return undefined;
    }
    return this.buffer.subarray(bufferOffset, end);
  }

  /** RFC 7143 11.7: one Data-Out PDU, checked against the sequence it belongs to. */
  accept(d: DataOutPdu): CollectOutcome {
    const end = d.bufferOffset + d.data.length;
    if (d.ttt === RESERVED_TAG) {
      // Unsolicited: one sequence from the end of the immediate data to FirstBurstLength.
      if (d.dataSN !== this.unsolicitedDataSN) return sequenceError(`unsolicited DataSN ${d.dataSN}, expected ${this.unsolicitedDataSN}`);
      if (d.bufferOffset !== this.unsolicitedOffset) return { ok: false, reason: `unsolicited Buffer Offset ${d.bufferOffset}, expected ${this.unsolicitedOffset}`, kind: DataOutErrorKind.PROTOCOL };
      if (end > this.unsolicitedEnd) return { ok: false, reason: 'unsolicited data beyond FirstBurstLength', kind: DataOutErrorKind.PROTOCOL };
      // RFC 7143 11.7.1: F marks the last PDU of the unsolicited sequence.
      if (d.final !== (end === this.unsolicitedEnd)) return { ok: false, reason: 'F bit does not end the unsolicited sequence', kind: DataOutErrorKind.PROTOCOL };
      this.unsolicitedDataSN++;
      this.unsolicitedOffset = end;
    } else {
      const r = this.planner.open.get(d.ttt);
      if (!r) return { ok: false, reason: `Data-Out for unknown Target Transfer Tag 0x${d.ttt.toString(16)}`, kind: DataOutErrorKind.PROTOCOL };
      if (d.dataSN !== r.nextDataSN) return sequenceError(`DataSN ${d.dataSN}, expected ${r.nextDataSN}`);
      if (d.bufferOffset !== r.nextOffset) return { ok: false, reason: `Buffer Offset ${d.bufferOffset}, expected ${r.nextOffset}`, kind: DataOutErrorKind.PROTOCOL };
      const rEnd = r.bufferOffset + r.desiredDataTransferLength;
      if (end > rEnd) return { ok: false, reason: 'Data-Out beyond the R2T', kind: DataOutErrorKind.PROTOCOL };
      if (d.final !== (end === rEnd)) return { ok: false, reason: 'F bit does not end the R2T sequence', kind: DataOutErrorKind.PROTOCOL };
      r.nextDataSN++;
      r.nextOffset = end;
      if (end === rEnd) this.planner.close(d.ttt);
    }
    // Segments that spanned socket chunks were assembled in place (landing()); the rest is copied once.
    const inPlace = d.data.buffer === this.buffer.buffer && d.data.byteOffset === this.buffer.byteOffset + d.bufferOffset;
    if (!inPlace) d.data.copy(this.buffer, d.bufferOffset);
    this.received += d.data.length;
    // One outcome object per collector, one R2T list per planner: nothing allocated per PDU.
    const o = this.outcome;
    o.r2ts = this.planner.issue();
    o.complete = this.complete;
    return o;
  }
}

function sequenceError(reason: string): CollectOutcome {
  return { ok: false, reason, kind: DataOutErrorKind.SEQUENCE };
}
