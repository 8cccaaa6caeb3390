// RFC 7143 11.2: Basic Header Segment fields common to every PDU, and the SAM LUN field.
import { BHS_IMMEDIATE, BHS_OPCODE_MASK, BHS_LENGTH } from './spec';

export function bhsOpcode(h: Uint8Array): number {
  return h[0] & BHS_OPCODE_MASK;
}

export function bhsImmediate(h: Uint8Array): boolean {
  return (h[0] & BHS_IMMEDIATE) !== 0;
}

/** RFC 7143 11.2.1.3: TotalAHSLength in bytes (the wire counts 4-byte words). */
export function bhsTotalAhsLength(h: Uint8Array): number {
  return h[4] * 4;
}

/** RFC 7143 11.2.1.4: DataSegmentLength, bytes 5-7, excluding padding. */
export function bhsDataSegmentLength(h: Uint8Array): number {
  return (h[5] << 16) | (h[6] << 8) | h[7];
}

export function setBhsDataSegmentLength(h: Uint8Array, offset: number, length: number): void {
  h[offset + 5] = (length >>> 16) & 0xff;
  h[offset + 6] = (length >>> 8) & 0xff;
  h[offset + 7] = length & 0xff;
}

export function bhsItt(h: Uint8Array): number {
  return ((h[16] << 24) | (h[17] << 16) | (h[18] << 8) | h[19]) >>> 0;
}

/** RFC 7143 11.2.3: data segments are padded to a 4-byte boundary. */
export function padLength(length: number): number {
  return (4 - (length & 3)) & 3;
}

export function paddedLength(length: number): number {
  return length + padLength(length);
}

export { BHS_LENGTH };

// --- LUN (SAM-5 4.7, RFC 7143 11.2.1.6) ---

/** Returned by decodeLun for addressing methods this target does not serve. */
export const LUN_UNSUPPORTED = -1;
/** Largest LUN the flat space addressing method carries (14 bits). */
export const MAX_FLAT_LUN = 0x3fff;

/**
 * SAM-5 4.7.7.2 / 4.7.7.4: decode a single-level LUN. Peripheral device addressing (method 00b,
 * bus 0) and flat space addressing (method 01b) become the LUN number; anything else (a bus
 * identifier, logical unit or extended addressing, a second level) is LUN_UNSUPPORTED.
 */
export function decodeLun(buf: Uint8Array, offset: number): number {
  for (let i = 2; i < 8; i++) if (buf[offset + i] !== 0) return LUN_UNSUPPORTED;
  const b0 = buf[offset];
  const method = b0 >>> 6;
  if (method === 0) return (b0 & 0x3f) === 0 ? buf[offset + 1] : LUN_UNSUPPORTED;
  if (method === 1) return ((b0 & 0x3f) << 8) | buf[offset + 1];
  return LUN_UNSUPPORTED;
}

/**
 * Encode a LUN as Linux and SCST do: peripheral device addressing below 256, flat space
 * addressing up to 16383. Larger values are a caller bug.
 */
export function encodeLun(out: Uint8Array, offset: number, lun: number): void {
  if (!Number.isInteger(lun) || lun < 0 || lun > MAX_FLAT_LUN) {
    throw Object.assign(new RangeError(`LUN ${lun} not encodable`), { code: 'ERR_ISCSI_LUN' });
  }
  out[offset] = lun < 256 ? 0 : 0x40 | (lun >>> 8);
  out[offset + 1] = lun & 0xff;
  for (let i = 2; i < 8; i++) out[offset + i] = 0;
}
