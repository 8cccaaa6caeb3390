// RFC 7143 6.1: text-mode key=value pairs, each terminated by a zero byte, in Login and Text
// PDUs; RFC 7143 6.2 / 11.10.2: a set of pairs may span several PDUs with the C bit.
import { NexusError } from '../../engine/result';

/** RFC 7143 6.1: key names are at most 63 bytes. */
export const MAX_KEY_LENGTH = 63;
/** RFC 7143 6.1: a simple value is at most 255 bytes unless its key says otherwise. */
export const DEFAULT_MAX_VALUE_LENGTH = 255;
/** RFC 7143 6.1: at least 8192 bytes of key=value data per negotiation must be accepted; we take 64 KiB. */
export const DEFAULT_MAX_TEXT_LENGTH = 65536;

export type TextError =
  | 'missing-equals'
  | 'empty-key'
  | 'key-too-long'
  | 'invalid-key-char'
  | 'value-too-long'
  | 'duplicate-key'
  | 'too-long';

export type TextParseResult =
  | { ok: true; pairs: Map<string, string> }
  | { ok: false; error: TextError; key?: string };

export interface TextLimits {
  /** Per-key value limit (bytes); defaults to 255 (keys.ts knows the exceptions). */
  maxValueLength?: (key: string) => number;
}

// RFC 7143 6.1: key names are letters, digits, '.', '-', '+', '@', '_' (standard-label and X- keys).
function validKeyByte(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2e || c === 0x2d || c === 0x2b || c === 0x40 || c === 0x5f || c === 0x23
  );
}

/**
 * Parse a complete text segment. A final pair without its zero byte is accepted (the data
 * segment length bounds it). Empty strings between zero bytes are skipped (padding some
 * initiators leave).
 */
export function parseText(buf: Uint8Array, limits: TextLimits = {}): TextParseResult {
  const pairs = new Map<string, string>();
  const maxValue = limits.maxValueLength ?? (() => DEFAULT_MAX_VALUE_LENGTH);
  let i = 0;
  while (i < buf.length) {
    let end = buf.indexOf(0, i);
    if (end < 0) end = buf.length;
    if (end === i) {
      i++;
      continue;
    }
    const eq = buf.indexOf(0x3d, i);
    if (eq < 0 || eq >= end) return { ok: false, error: 'missing-equals' };
    if (eq === i) return { ok: false, error: 'empty-key' };
    if (eq - i > MAX_KEY_LENGTH) return { ok: false, error: 'key-too-long' };
    for (let k = i; k < eq; k++) if (!validKeyByte(buf[k])) return { ok: false, error: 'invalid-key-char' };
    const key = Buffer.from(buf.buffer, buf.byteOffset + i, eq - i).toString('latin1');
    if (end - eq - 1 > maxValue(key)) return { ok: false, error: 'value-too-long', key };
    // RFC 7143 6.2: a key may appear once in a negotiation set.
    if (pairs.has(key)) return { ok: false, error: 'duplicate-key', key };
    pairs.set(key, Buffer.from(buf.buffer, buf.byteOffset + eq + 1, end - eq - 1).toString('utf8'));
    i = end + 1;
  }
  return { ok: true, pairs };
}

/** Encode pairs as key=value\0 ... (values in UTF-8, RFC 7143 6.1). */
export function encodeText(pairs: Iterable<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of pairs) parts.push(Buffer.from(`${k}=${v}\0`, 'utf8'));
  return Buffer.concat(parts);
}

export type AccumulateResult =
  | { done: false }
  | { done: true; result: TextParseResult };

/** The data segments of an unfinished C=1 set, as an immutable value (the login reducer's state). */
export interface TextSet {
  readonly parts: readonly Buffer[];
  /** Bytes held. */
  readonly total: number;
}

export const EMPTY_TEXT_SET: TextSet = Object.freeze({ parts: Object.freeze([]) as readonly Buffer[], total: 0 });

export type TextSetStep =
  | { done: false; set: TextSet }
  | { done: true; set: TextSet; result: TextParseResult };

/**
 * RFC 7143 11.10.2 / 11.12.2: one PDU's data segment added to a set sent with C=1; the PDU with
 * C=0 ends the set and the whole text is parsed (a pair may straddle PDUs). Pure: `set` is not
 * changed, the data is copied (it may alias a socket chunk).
 */
export function accumulateText(
  set: TextSet, data: Buffer, continued: boolean, limits: TextLimits = {}, maxTotal = DEFAULT_MAX_TEXT_LENGTH,
): TextSetStep {
  const total = set.total + data.length;
  if (total > maxTotal) return { done: true, set: EMPTY_TEXT_SET, result: { ok: false, error: 'too-long' } };
  const parts = data.length > 0 ? [...set.parts, Buffer.from(data)] : set.parts;
  if (continued) return { done: false, set: { parts, total } };
  const all = parts.length === 1 ? parts[0] : Buffer.concat(parts as Buffer[]);
  return { done: true, set: EMPTY_TEXT_SET, result: parseText(all, limits) };
}

/** accumulateText for a holder that keeps one set across PDUs (Text Requests of a connection). */
export class TextAccumulator {
  private set = EMPTY_TEXT_SET;

  constructor(
    private readonly limits: TextLimits = {},
    private readonly maxTotal = DEFAULT_MAX_TEXT_LENGTH,
  ) {}

  /** Bytes held from earlier PDUs of an unfinished set. */
  get pending(): number {
    return this.set.total;
  }

  push(data: Buffer, continued: boolean): AccumulateResult {
    const r = accumulateText(this.set, data, continued, this.limits, this.maxTotal);
    this.set = r.set;
    return r.done ? { done: true, result: r.result } : { done: false };
  }

  reset(): void {
    this.set = EMPTY_TEXT_SET;
  }
}

/**
 * RFC 7143 6.2: a response longer than the peer's MaxRecvDataSegmentLength goes out in several
 * PDUs, all but the last with C=1. Always returns at least one (possibly empty) segment.
 */
export function splitText(text: Buffer, maxSegment: number): Buffer[] {
  if (maxSegment <= 0) throw new NexusError('ERR_ISCSI_TEXT', 'maxSegment must be positive');
  if (text.length <= maxSegment) return [text];
  const out: Buffer[] = [];
  for (let o = 0; o < text.length; o += maxSegment) out.push(text.subarray(o, Math.min(text.length, o + maxSegment)));
  return out;
}
