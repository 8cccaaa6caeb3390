// RFC 7143 11.2: Basic Header Segment fields common to every PDU, and the SAM LUN field.
import { NexusError } from '../../engine/result';
import { BHS_FINAL, BHS_IMMEDIATE, BHS_OPCODE_MASK, BHS_LENGTH, SCSI_CMD_FLAG_W } from './spec';

/**
 * RFC 7143 11.2 / 11.3-11.18: byte offsets of the BHS fields, named as in the standard. One offset
 * carries a different field per PDU kind (byte 20: TTT, Expected Data Transfer Length,
 * Referenced Task Tag or CID), so each kind's name is listed.
 */
export const enum BhsField {
  OPCODE = 0,
  FLAGS = 1,
  VERSION_MAX = 2,
  VERSION_MIN = 3,
  TOTAL_AHS_LENGTH = 4,
  DATA_SEGMENT_LENGTH = 5,
  LUN = 8,
  ISID = 8,
  TSIH = 14,
  ITT = 16,
  TTT = 20,
  EXPECTED_DATA_TRANSFER_LENGTH = 20,
  REFERENCED_TASK_TAG = 20,
  CID = 20,
  CMD_SN = 24,
  STAT_SN = 24,
  EXP_STAT_SN = 28,
  EXP_CMD_SN = 28,
  REF_CMD_SN = 32,
  MAX_CMD_SN = 32,
  CDB = 32,
  DATA_SN = 36,
  EXP_DATA_SN = 36,
  BUFFER_OFFSET = 40,
  BEG_RUN = 40,
  RUN_LENGTH = 44,
  // Target PDUs (RFC 7143 11.4, 11.6, 11.7, 11.8, 11.9, 11.13, 11.15, 11.17).
  RESPONSE = 2,
  STATUS = 3,
  REASON = 2,
  SNACK_TAG = 20,
  R2T_SN = 36,
  STATUS_CLASS = 36,
  STATUS_DETAIL = 37,
  ASYNC_EVENT = 36,
  ASYNC_VCODE = 37,
  PARAMETER1 = 38,
  PARAMETER2 = 40,
  PARAMETER3 = 42,
  TIME2WAIT = 40,
  TIME2RETAIN = 42,
  BIDI_RESIDUAL_COUNT = 40,
  RESIDUAL_COUNT = 44,
  DESIRED_DATA_TRANSFER_LENGTH = 44,
}

/** Big-endian 32-bit field at `o`. */
export function bhsU32(h: Uint8Array, o: number): number {
  return ((h[o] << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) >>> 0;
}

/** Big-endian 16-bit field at `o`. */
export function bhsU16(h: Uint8Array, o: number): number {
  return (h[o] << 8) | h[o + 1];
}

/** RFC 7143 11.2.1.2: the opcode, without the I bit. `o`: where the BHS starts in `h`. */
export function bhsOpcode(h: Uint8Array, o = 0): number {
  return h[o + BhsField.OPCODE] & BHS_OPCODE_MASK;
}

export function bhsImmediate(h: Uint8Array): boolean {
  return (h[BhsField.OPCODE] & BHS_IMMEDIATE) !== 0;
}

/** Byte 1: the F bit and the opcode-specific flags. */
export function bhsFlags(h: Uint8Array): number {
  return h[BhsField.FLAGS];
}

export function bhsFinal(h: Uint8Array): boolean {
  return (h[BhsField.FLAGS] & BHS_FINAL) !== 0;
}

/** RFC 7143 11.2.1.3: TotalAHSLength in bytes (the wire counts 4-byte words). */
export function bhsTotalAhsLength(h: Uint8Array, o = 0): number {
  return h[o + BhsField.TOTAL_AHS_LENGTH] * 4;
}

/** RFC 7143 11.2.1.4: DataSegmentLength, bytes 5-7, excluding padding. */
export function bhsDataSegmentLength(h: Uint8Array, o = 0): number {
  const at = o + BhsField.DATA_SEGMENT_LENGTH;
  return (h[at] << 16) | (h[at + 1] << 8) | h[at + 2];
}

export function setBhsDataSegmentLength(h: Uint8Array, offset: number, length: number): void {
  const at = offset + BhsField.DATA_SEGMENT_LENGTH;
  h[at] = (length >>> 16) & 0xff;
  h[at + 1] = (length >>> 8) & 0xff;
  h[at + 2] = length & 0xff;
}

/** RFC 7143 11.2.1.7: Initiator Task Tag. */
export function bhsItt(h: Uint8Array): number {
  return bhsU32(h, BhsField.ITT);
}

/** RFC 7143 11.7.4 / 11.18.4: Target Transfer Tag (Data-Out, NOP-Out, Text, SNACK). */
export function bhsTtt(h: Uint8Array): number {
  return bhsU32(h, BhsField.TTT);
}

/** RFC 7143 11.3.1: the W bit of a SCSI Command. */
export function bhsScsiWrite(h: Uint8Array): boolean {
  return (h[BhsField.FLAGS] & SCSI_CMD_FLAG_W) !== 0;
}

/** RFC 7143 11.3.5: a SCSI Command's Expected Data Transfer Length. */
export function bhsExpectedDataTransferLength(h: Uint8Array): number {
  return bhsU32(h, BhsField.EXPECTED_DATA_TRANSFER_LENGTH);
}

/** RFC 7143 11.7.5: a Data-Out's DataSN. */
export function bhsDataSN(h: Uint8Array): number {
  return bhsU32(h, BhsField.DATA_SN);
}

/** RFC 7143 11.7.6: a Data-Out's Buffer Offset. */
export function bhsBufferOffset(h: Uint8Array): number {
  return bhsU32(h, BhsField.BUFFER_OFFSET);
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
    throw new NexusError('ERR_ISCSI_LUN', `LUN ${lun} not encodable`);
  }
  out[offset] = lun < 256 ? 0 : 0x40 | (lun >>> 8);
  out[offset + 1] = lun & 0xff;
  for (let i = 2; i < 8; i++) out[offset + i] = 0;
}
