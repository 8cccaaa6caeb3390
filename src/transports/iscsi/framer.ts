// RFC 7143 11.2: cut a TCP byte stream into PDUs. An explicit state machine (one state per
// part of the PDU on the wire) fed arbitrary chunks. The DataSegmentLength is checked against
// the negotiated MaxRecvDataSegmentLength before a single data byte is buffered, and header
// and data CRC32C digests are verified when negotiated.
import { BHS_LENGTH, DIGEST_LENGTH } from './spec';
import { bhsDataSegmentLength, bhsTotalAhsLength, padLength } from './bhs';
import { crc32c, crc32cJs, readDigest } from './digest';

export enum FramerState {
  BHS = 'BHS',
  AHS = 'AHS',
  HEADER_DIGEST = 'HEADER_DIGEST',
  DATA = 'DATA',
  PADDING = 'PADDING',
  DATA_DIGEST = 'DATA_DIGEST',
  /** After a fatal error: every further byte is ignored until reset(). */
  FAILED = 'FAILED',
}

export type FramerError =
  /** RFC 7143 7.8: a header digest error loses framing; the connection must be closed. */
  | { kind: 'digest-error'; segment: 'header'; fatal: true; header: Buffer }
  /** RFC 7143 7.8: data digest error; the PDU is dropped, answer with Reject (reason 0x02). */
  | { kind: 'digest-error'; segment: 'data'; fatal: false; header: Buffer }
  /** RFC 7143 13.12: DataSegmentLength above our MaxRecvDataSegmentLength: protocol error. */
  | { kind: 'too-long'; fatal: true; header: Buffer; dataSegmentLength: number; limit: number };

export interface FramerSink {
  /**
   * A complete PDU: `header` is BHS + AHS, `data` the unpadded data segment. Both may alias
   * the fed chunk and are valid only during this call (the framer never keeps a view of a chunk
   * past feed(), so chunks may come from a reused receive buffer). Calling setDigests/setMaxRecvDataSegmentLength from here takes effect from
   * the next PDU on, including the rest of the current chunk.
   */
  pdu(header: Buffer, data: Buffer): void;
  error(e: FramerError): void;
}

export interface FramerOptions {
  maxRecvDataSegmentLength?: number;
  headerDigest?: boolean;
  dataDigest?: boolean;
  /** Where a data segment that spans chunks is assembled (e.g. a pool buffer). */
  allocData?: (length: number, header: Buffer) => Buffer;
}

/** RFC 7143 13.12: MaxRecvDataSegmentLength default, which also holds during login. */
export const DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH = 8192;
const EMPTY = Buffer.alloc(0);
const MAX_HEADER = BHS_LENGTH + 255 * 4;

export class PduFramer {
  private st: FramerState = FramerState.BHS;
  private maxRecv: number;
  private hd: boolean;
  private dd: boolean;
  private readonly allocData: (length: number, header: Buffer) => Buffer;
  private readonly sink: FramerSink;

  // Assembly of a PDU that spans chunks.
  private readonly hdr = Buffer.alloc(MAX_HEADER);
  private hdrFill = 0;
  private headerLen = BHS_LENGTH;
  private header: Buffer = EMPTY;
  private dsl = 0;
  private data: Buffer = EMPTY;
  private dataFill = 0;
  private readonly pad = Buffer.alloc(4);
  private padFill = 0;
  private readonly dig = Buffer.alloc(4);
  private digFill = 0;
  /** Set by halt(): feed stops after the current PDU and keeps the rest of its chunk. */
  private halted = false;
  private rest: Buffer = EMPTY;

  constructor(sink: FramerSink, opts: FramerOptions = {}) {
    this.sink = sink;
    this.maxRecv = opts.maxRecvDataSegmentLength ?? DEFAULT_MAX_RECV_DATA_SEGMENT_LENGTH;
    this.hd = opts.headerDigest ?? false;
    this.dd = opts.dataDigest ?? false;
    this.allocData = opts.allocData ?? ((n) => Buffer.allocUnsafe(n));
  }

  get state(): FramerState {
    return this.st;
  }

  /** RFC 7143 13.1: digests negotiated at login apply from the first full-feature PDU. */
  setDigests(header: boolean, data: boolean): void {
    this.hd = header;
    this.dd = data;
  }

  setMaxRecvDataSegmentLength(n: number): void {
    this.maxRecv = n;
  }

  /** Back to the start of a PDU (after a fatal error, when the connection is reused in tests). */
  reset(): void {
    this.st = FramerState.BHS;
    this.hdrFill = this.dataFill = this.padFill = this.digFill = 0;
    this.header = this.data = EMPTY;
  }

  /**
   * Stop cutting PDUs: called from pdu() (the connection leaves this framer, e.g. hands the socket
   * to another thread), feed returns after that PDU and the unread rest of the chunk is kept for
   * takeRest(). Further feeds only add to the rest.
   */
  halt(): void {
    this.halted = true;
  }

  /** Bytes fed after halt() that no PDU consumed (what the next owner of the stream reads first). */
  takeRest(): Buffer {
    const r = this.rest;
    this.rest = EMPTY;
    return r;
  }

  feed(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    if (this.halted) {
      this.keepRest(chunk, 0);
      return;
    }
    while (pos < len && this.st !== FramerState.FAILED) {
      if (this.halted) {
        this.keepRest(chunk, pos);
        return;
      }
      switch (this.st as Exclude<FramerState, FramerState.FAILED>) {
        case FramerState.BHS: {
          if (this.hdrFill === 0 && len - pos >= BHS_LENGTH) {
            const used = this.tryWhole(chunk, pos);
            if (used > 0) {
              pos += used;
              break;
            }
            if (used < 0) return; // fatal error already reported
          }
          pos += this.fillHeader(chunk, pos, BHS_LENGTH);
          if (this.hdrFill === BHS_LENGTH) {
            this.headerLen = BHS_LENGTH + bhsTotalAhsLength(this.hdr);
            this.st = this.headerLen > BHS_LENGTH ? FramerState.AHS : this.afterHeaderState();
            if (this.st !== FramerState.HEADER_DIGEST && this.st !== FramerState.AHS) this.headerDone();
          }
          break;
        }
        case FramerState.AHS:
          pos += this.fillHeader(chunk, pos, this.headerLen);
          if (this.hdrFill === this.headerLen) {
            this.st = this.afterHeaderState();
            if (this.st !== FramerState.HEADER_DIGEST) this.headerDone();
          }
          break;
        case FramerState.HEADER_DIGEST: {
          pos += this.fillDigest(chunk, pos);
          if (this.digFill === DIGEST_LENGTH) {
            this.digFill = 0;
            const header = Buffer.from(this.hdr.subarray(0, this.headerLen));
            if (crc32cJs(header, 0, header.length, 0) !== readDigest(this.dig, 0)) {
              this.fatal({ kind: 'digest-error', segment: 'header', fatal: true, header });
              return;
            }
            this.headerDone(header);
          }
          break;
        }
        case FramerState.DATA: {
          if (this.dataFill === 0 && len - pos >= this.dsl + padLength(this.dsl) + (this.dd ? DIGEST_LENGTH : 0)) {
            // Zero copy: the rest of the PDU is inside this chunk, so the PDU is emitted before
            // feed returns (a chunk may be a reused receive buffer, valid only during feed).
            this.data = chunk.subarray(pos, pos + this.dsl);
            this.dataFill = this.dsl;
            pos += this.dsl;
          } else {
            if (this.data.length !== this.dsl) this.data = this.allocData(this.dsl, this.header);
            const n = Math.min(this.dsl - this.dataFill, len - pos);
            chunk.copy(this.data, this.dataFill, pos, pos + n);
            this.dataFill += n;
            pos += n;
          }
          if (this.dataFill === this.dsl) this.afterData();
          break;
        }
        case FramerState.PADDING: {
          const want = padLength(this.dsl);
          const n = Math.min(want - this.padFill, len - pos);
          chunk.copy(this.pad, this.padFill, pos, pos + n);
          this.padFill += n;
          pos += n;
          if (this.padFill === want) {
            if (this.dd) this.st = FramerState.DATA_DIGEST;
            else this.emit();
          }
          break;
        }
        case FramerState.DATA_DIGEST:
          pos += this.fillDigest(chunk, pos);
          if (this.digFill === DIGEST_LENGTH) {
            this.digFill = 0;
            const crc = crc32cJs(this.pad, 0, padLength(this.dsl), crc32c(this.data));
            if (crc !== readDigest(this.dig, 0)) this.dataDigestError(this.header);
            else this.emit();
          }
          break;
      }
    }
  }

  /**
   * While a data segment spans reads and is being assembled in its own buffer (the task's, for
   * Data-Out), the missing bytes may be received straight into it: `receive` is asked for them
   * until the segment is whole or it answers 0 (nothing more waiting). Only for a remainder of at
   * least `minBytes`: below that the event loop's next read costs no more.
   */
  receiveDataInPlace(receive: (into: Uint8Array, offset: number, length: number) => number, minBytes: number): void {
    if (this.halted || this.st !== FramerState.DATA || this.dataFill === 0 || this.data.length !== this.dsl) return;
    if (this.dsl - this.dataFill < minBytes) return;
    // Bounded: every pass advances by at least one byte or stops.
    while (this.dataFill < this.dsl) {
      const n = receive(this.data, this.dataFill, this.dsl - this.dataFill);
      if (n <= 0) return;
      this.dataFill += n;
      this.receivedInPlace += n;
    }
    this.afterData();
  }

  /** Bytes that receiveDataInPlace put straight into data segment buffers (statistics, tests). */
  receivedInPlace = 0;

  private keepRest(chunk: Buffer, pos: number): void {
    if (pos >= chunk.length) return;
    const tail = chunk.subarray(pos);
    this.rest = this.rest.length === 0 ? Buffer.from(tail) : Buffer.concat([this.rest, tail]);
  }

  /**
   * Fast path for a PDU that starts at `pos` with nothing buffered: when the chunk holds all of
   * it, emit subarrays of the chunk. Returns bytes consumed, 0 when the PDU is incomplete, -1
   * after a fatal error.
   */
  private tryWhole(chunk: Buffer, pos: number): number {
    // RFC 7143 11.2.1.3 / 11.2.1.4: TotalAHSLength and DataSegmentLength read in place.
    const headerLen = BHS_LENGTH + bhsTotalAhsLength(chunk, pos);
    const dsl = bhsDataSegmentLength(chunk, pos);
    if (dsl > this.maxRecv) {
      const header = Buffer.from(chunk.subarray(pos, pos + Math.min(headerLen, chunk.length - pos)));
      this.fatal({ kind: 'too-long', fatal: true, header, dataSegmentLength: dsl, limit: this.maxRecv });
      return -1;
    }
    const hdEnd = headerLen + (this.hd ? DIGEST_LENGTH : 0);
    const dataEnd = hdEnd + dsl + padLength(dsl);
    const total = dataEnd + (this.dd && dsl > 0 ? DIGEST_LENGTH : 0);
    if (chunk.length - pos < total) return 0;
    const header = chunk.subarray(pos, pos + headerLen);
    if (this.hd && crc32cJs(chunk, pos, pos + headerLen, 0) !== readDigest(chunk, pos + headerLen)) {
      this.fatal({ kind: 'digest-error', segment: 'header', fatal: true, header: Buffer.from(header) });
      return -1;
    }
    const data = dsl > 0 ? chunk.subarray(pos + hdEnd, pos + hdEnd + dsl) : EMPTY;
    if (this.dd && dsl > 0) {
      const padded = chunk.subarray(pos + hdEnd, pos + dataEnd);
      const crc = dsl === padded.length ? crc32c(padded) : crc32cJs(padded, dsl, padded.length, crc32c(data));
      if (crc !== readDigest(chunk, pos + dataEnd)) {
        this.sink.error({ kind: 'digest-error', segment: 'data', fatal: false, header });
        return total;
      }
    }
    this.sink.pdu(header, data);
    return total;
  }

  private fillHeader(chunk: Buffer, pos: number, upTo: number): number {
    const n = Math.min(upTo - this.hdrFill, chunk.length - pos);
    chunk.copy(this.hdr, this.hdrFill, pos, pos + n);
    this.hdrFill += n;
    return n;
  }

  private fillDigest(chunk: Buffer, pos: number): number {
    const n = Math.min(DIGEST_LENGTH - this.digFill, chunk.length - pos);
    chunk.copy(this.dig, this.digFill, pos, pos + n);
    this.digFill += n;
    return n;
  }

  private afterHeaderState(): FramerState {
    return this.hd ? FramerState.HEADER_DIGEST : FramerState.DATA;
  }

  /** The header (and its digest) is complete: check the length limit, then expect the data. */
  private headerDone(header: Buffer = Buffer.from(this.hdr.subarray(0, this.headerLen))): void {
    this.hdrFill = 0;
    this.header = header;
    this.dsl = bhsDataSegmentLength(header);
    // RFC 7143 13.12: checked before any of the data segment is buffered.
    if (this.dsl > this.maxRecv) {
      this.fatal({ kind: 'too-long', fatal: true, header, dataSegmentLength: this.dsl, limit: this.maxRecv });
      return;
    }
    this.dataFill = 0;
    this.padFill = 0;
    this.data = EMPTY;
    if (this.dsl === 0) this.emit();
    else this.st = FramerState.DATA;
  }

  private afterData(): void {
    if (padLength(this.dsl) > 0) this.st = FramerState.PADDING;
    else if (this.dd) this.st = FramerState.DATA_DIGEST;
    else this.emit();
  }

  private emit(): void {
    const header = this.header;
    const data = this.data;
    this.header = this.data = EMPTY;
    this.st = FramerState.BHS;
    this.sink.pdu(header, data);
  }

  private dataDigestError(header: Buffer): void {
    this.header = this.data = EMPTY;
    this.st = FramerState.BHS;
    this.sink.error({ kind: 'digest-error', segment: 'data', fatal: false, header });
  }

  private fatal(e: FramerError): void {
    this.st = FramerState.FAILED;
    this.sink.error(e);
  }
}
