// RFC 7143 11 / 10.2.1.2: encoding of the PDUs a target sends. Encoders write a BHS into a
// caller-provided buffer (so connections can reuse header buffers) and return its length;
// build* conveniences return a fresh Buffer holding BHS + data + padding.
import {
  BHS_FINAL, BHS_LENGTH, DATA_IN_FLAG_ACK, DATA_IN_FLAG_STATUS, IscsiOp, LOGIN_FLAG_CONTINUE,
  LOGIN_FLAG_TRANSIT, LoginStatus, RESERVED_TAG, RESP_FLAG_BIDI_OVERFLOW, RESP_FLAG_BIDI_UNDERFLOW,
  RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW, RejectReason, ScsiServiceResponse, TEXT_FLAG_CONTINUE,
  TmfResponse, LogoutResponse, AsyncEvent,
} from './spec';
import { ResidualKind } from '../../engine/command';
import { NexusError } from '../../engine/result';
import { BhsField, encodeLun, paddedLength, setBhsDataSegmentLength } from './bhs';

const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------- target PDU encoders

/** Fields every target response carries (RFC 7143 4.2.2: StatSN, ExpCmdSN, MaxCmdSN). */
export interface SeqFields {
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

function be32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
function be16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** Zero the BHS and set opcode, byte 1 and the data segment length. */
function start(out: Uint8Array, o: number, op: IscsiOp, byte1: number, dataSegmentLength: number): void {
  out.fill(0, o, o + BHS_LENGTH);
  out[o + BhsField.OPCODE] = op;
  out[o + BhsField.FLAGS] = byte1;
  setBhsDataSegmentLength(out, o, dataSegmentLength);
}

function seq(out: Uint8Array, o: number, f: SeqFields): void {
  be32(out, o + BhsField.STAT_SN, f.statSN);
  be32(out, o + BhsField.EXP_CMD_SN, f.expCmdSN);
  be32(out, o + BhsField.MAX_CMD_SN, f.maxCmdSN);
}

/** RFC 7143 11.4.1: the O/U (or o/u) flag of a residual kind. */
function residualFlags(kind: ResidualKind, over: number, under: number): number {
  return kind === ResidualKind.OVERFLOW ? over : kind === ResidualKind.UNDERFLOW ? under : 0;
}

export interface NopInFields extends SeqFields {
  lun: number;
  itt: number;
  ttt: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.19: NOP-In. */
export function encodeNopIn(out: Uint8Array, o: number, f: NopInFields): number {
  start(out, o, IscsiOp.NOP_IN, BHS_FINAL, f.dataSegmentLength);
  encodeLun(out, o + BhsField.LUN, f.lun);
  be32(out, o + BhsField.ITT, f.itt);
  be32(out, o + BhsField.TTT, f.ttt);
  seq(out, o, f);
  return BHS_LENGTH;
}

export interface ScsiResponseFields extends SeqFields {
  itt: number;
  response: ScsiServiceResponse;
  status: number;
  expDataSN: number;
  residual: ResidualKind;
  residualCount: number;
  bidiResidual?: ResidualKind;
  bidiResidualCount?: number;
  snackTag?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.4: SCSI Response. */
export function encodeScsiResponse(out: Uint8Array, o: number, f: ScsiResponseFields): number {
  const flags =
    BHS_FINAL |
    residualFlags(f.residual, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW) |
    residualFlags(f.bidiResidual ?? ResidualKind.NONE, RESP_FLAG_BIDI_OVERFLOW, RESP_FLAG_BIDI_UNDERFLOW);
  start(out, o, IscsiOp.SCSI_RESPONSE, flags, f.dataSegmentLength);
  out[o + BhsField.RESPONSE] = f.response;
  out[o + BhsField.STATUS] = f.status;
  be32(out, o + BhsField.ITT, f.itt);
  be32(out, o + BhsField.SNACK_TAG, f.snackTag ?? 0);
  seq(out, o, f);
  be32(out, o + BhsField.EXP_DATA_SN, f.expDataSN);
  be32(out, o + BhsField.BIDI_RESIDUAL_COUNT, f.bidiResidualCount ?? 0);
  be32(out, o + BhsField.RESIDUAL_COUNT, f.residualCount);
  return BHS_LENGTH;
}

/**
 * RFC 7143 11.4.7.2: the data segment of a SCSI Response with sense is a 2-byte SenseLength
 * followed by the sense data. Returns the segment length written.
 */
export function encodeSenseSegment(out: Uint8Array, o: number, sense: Uint8Array): number {
  be16(out, o, sense.length);
  out.set(sense, o + 2);
  return 2 + sense.length;
}

export interface DataInFields {
  final: boolean;
  /** RFC 7143 11.7.1: A bit, DataACK requested (ErrorRecoveryLevel > 0 only). */
  ack?: boolean;
  /** SCSI status: when present the S bit is set (and F must be too). */
  status?: number;
  lun: number;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  dataSN: number;
  bufferOffset: number;
  residual?: ResidualKind;
  residualCount?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.7: SCSI Data-In. */
export function encodeDataIn(out: Uint8Array, o: number, f: DataInFields): number {
  const s = f.status !== undefined;
  if (s && !f.final) throw new NexusError('ERR_ISCSI_ENCODE', 'Data-In with S bit requires F bit');
  let flags = (f.final ? BHS_FINAL : 0) | (f.ack ? DATA_IN_FLAG_ACK : 0);
  if (s) flags |= DATA_IN_FLAG_STATUS | residualFlags(f.residual ?? ResidualKind.NONE, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW);
  start(out, o, IscsiOp.SCSI_DATA_IN, flags, f.dataSegmentLength);
  if (s) out[o + BhsField.STATUS] = f.status as number;
  // RFC 7143 11.7.4: LUN is required with the A bit, otherwise it may be reserved; send it anyway.
  encodeLun(out, o + BhsField.LUN, f.lun);
  be32(out, o + BhsField.ITT, f.itt);
  be32(out, o + BhsField.TTT, f.ttt);
  be32(out, o + BhsField.STAT_SN, s ? f.statSN : 0);
  be32(out, o + BhsField.EXP_CMD_SN, f.expCmdSN);
  be32(out, o + BhsField.MAX_CMD_SN, f.maxCmdSN);
  be32(out, o + BhsField.DATA_SN, f.dataSN);
  be32(out, o + BhsField.BUFFER_OFFSET, f.bufferOffset);
  be32(out, o + BhsField.RESIDUAL_COUNT, s ? f.residualCount ?? 0 : 0);
  return BHS_LENGTH;
}

/**
 * RFC 7143 11.7 / 11.7.4: the only Data-In of a read that fits one PDU, with phase collapse:
 * F and S set, DataSN 0, Buffer Offset 0, TTT 0xffffffff. The hot path of every small read, so
 * it takes its fields as arguments (no object per response) and writes all 48 bytes itself.
 */
export function encodeDataInStatus(
  out: Uint8Array, o: number, status: number, lun: number, itt: number, statSN: number, expCmdSN: number, maxCmdSN: number,
  residual: ResidualKind, residualCount: number, dataSegmentLength: number,
): number {
  out[o + BhsField.OPCODE] = IscsiOp.SCSI_DATA_IN;
  out[o + BhsField.FLAGS] = BHS_FINAL | DATA_IN_FLAG_STATUS | residualFlags(residual, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW);
  out[o + 2] = 0; // reserved
  out[o + BhsField.STATUS] = status;
  out[o + BhsField.TOTAL_AHS_LENGTH] = 0;
  setBhsDataSegmentLength(out, o, dataSegmentLength);
  encodeLun(out, o + BhsField.LUN, lun);
  be32(out, o + BhsField.ITT, itt);
  be32(out, o + BhsField.TTT, RESERVED_TAG);
  be32(out, o + BhsField.STAT_SN, statSN);
  be32(out, o + BhsField.EXP_CMD_SN, expCmdSN);
  be32(out, o + BhsField.MAX_CMD_SN, maxCmdSN);
  be32(out, o + BhsField.DATA_SN, 0);
  be32(out, o + BhsField.BUFFER_OFFSET, 0);
  be32(out, o + BhsField.RESIDUAL_COUNT, residual === ResidualKind.NONE ? 0 : residualCount);
  return BHS_LENGTH;
}

export interface R2TFields extends SeqFields {
  lun: number;
  itt: number;
  ttt: number;
  r2tSN: number;
  bufferOffset: number;
  desiredDataTransferLength: number;
}

/** RFC 7143 11.8: Ready To Transfer. StatSN here is the next StatSN, not advanced. */
export function encodeR2T(out: Uint8Array, o: number, f: R2TFields): number {
  start(out, o, IscsiOp.R2T, BHS_FINAL, 0);
  encodeLun(out, o + BhsField.LUN, f.lun);
  be32(out, o + BhsField.ITT, f.itt);
  be32(out, o + BhsField.TTT, f.ttt);
  seq(out, o, f);
  be32(out, o + BhsField.R2T_SN, f.r2tSN);
  be32(out, o + BhsField.BUFFER_OFFSET, f.bufferOffset);
  be32(out, o + BhsField.DESIRED_DATA_TRANSFER_LENGTH, f.desiredDataTransferLength);
  return BHS_LENGTH;
}

export interface TmfResponseFields extends SeqFields {
  itt: number;
  response: TmfResponse;
}

/** RFC 7143 11.6: Task Management Function Response. */
export function encodeTmfResponse(out: Uint8Array, o: number, f: TmfResponseFields): number {
  start(out, o, IscsiOp.TASK_MGMT_RESP, BHS_FINAL, 0);
  out[o + BhsField.RESPONSE] = f.response;
  be32(out, o + BhsField.ITT, f.itt);
  seq(out, o, f);
  return BHS_LENGTH;
}

export interface LoginResponseFields extends SeqFields {
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionActive: number;
  isid: number;
  tsih: number;
  itt: number;
  status: LoginStatus;
  dataSegmentLength: number;
}

/** RFC 7143 11.13: Login Response. */
export function encodeLoginResponse(out: Uint8Array, o: number, f: LoginResponseFields): number {
  const flags =
    (f.transit ? LOGIN_FLAG_TRANSIT : 0) | (f.continue ? LOGIN_FLAG_CONTINUE : 0) | ((f.csg & 3) << 2) | (f.transit ? f.nsg & 3 : 0);
  start(out, o, IscsiOp.LOGIN_RESP, flags, f.dataSegmentLength);
  out[o + BhsField.VERSION_MAX] = f.versionMax;
  out[o + BhsField.VERSION_MIN] = f.versionActive;
  be16(out, o + BhsField.ISID, Math.floor(f.isid / 0x100000000));
  be32(out, o + BhsField.ISID + 2, f.isid % 0x100000000);
  be16(out, o + BhsField.TSIH, f.tsih);
  be32(out, o + BhsField.ITT, f.itt);
  seq(out, o, f);
  out[o + BhsField.STATUS_CLASS] = f.status >>> 8;
  out[o + BhsField.STATUS_DETAIL] = f.status & 0xff;
  return BHS_LENGTH;
}

export interface TextResponseFields extends SeqFields {
  final: boolean;
  continue: boolean;
  lun: number;
  itt: number;
  ttt: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.11: Text Response. */
export function encodeTextResponse(out: Uint8Array, o: number, f: TextResponseFields): number {
  start(out, o, IscsiOp.TEXT_RESP, (f.final ? BHS_FINAL : 0) | (f.continue ? TEXT_FLAG_CONTINUE : 0), f.dataSegmentLength);
  encodeLun(out, o + BhsField.LUN, f.lun);
  be32(out, o + BhsField.ITT, f.itt);
  be32(out, o + BhsField.TTT, f.ttt);
  seq(out, o, f);
  return BHS_LENGTH;
}

export interface LogoutResponseFields extends SeqFields {
  itt: number;
  response: LogoutResponse;
  time2Wait: number;
  time2Retain: number;
}

/** RFC 7143 11.15: Logout Response. */
export function encodeLogoutResponse(out: Uint8Array, o: number, f: LogoutResponseFields): number {
  start(out, o, IscsiOp.LOGOUT_RESP, BHS_FINAL, 0);
  out[o + BhsField.RESPONSE] = f.response;
  be32(out, o + BhsField.ITT, f.itt);
  seq(out, o, f);
  be16(out, o + BhsField.TIME2WAIT, f.time2Wait);
  be16(out, o + BhsField.TIME2RETAIN, f.time2Retain);
  return BHS_LENGTH;
}

export interface AsyncMessageFields extends SeqFields {
  lun: number;
  event: AsyncEvent;
  vcode?: number;
  parameter1?: number;
  parameter2?: number;
  parameter3?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.9: Asynchronous Message (ITT is always 0xffffffff). */
export function encodeAsyncMessage(out: Uint8Array, o: number, f: AsyncMessageFields): number {
  start(out, o, IscsiOp.ASYNC_MSG, BHS_FINAL, f.dataSegmentLength);
  encodeLun(out, o + BhsField.LUN, f.lun);
  be32(out, o + BhsField.ITT, RESERVED_TAG);
  seq(out, o, f);
  out[o + BhsField.ASYNC_EVENT] = f.event;
  out[o + BhsField.ASYNC_VCODE] = f.vcode ?? 0;
  be16(out, o + BhsField.PARAMETER1, f.parameter1 ?? 0);
  be16(out, o + BhsField.PARAMETER2, f.parameter2 ?? 0);
  be16(out, o + BhsField.PARAMETER3, f.parameter3 ?? 0);
  return BHS_LENGTH;
}

export interface RejectFields extends SeqFields {
  reason: RejectReason;
  /** RFC 7143 11.17.3: DataSN/R2TSN, only for a rejected SNACK. */
  dataSN?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.17: Reject. The data segment is the complete rejected header (BHS). */
export function encodeReject(out: Uint8Array, o: number, f: RejectFields): number {
  start(out, o, IscsiOp.REJECT, BHS_FINAL, f.dataSegmentLength);
  out[o + BhsField.REASON] = f.reason;
  be32(out, o + BhsField.ITT, RESERVED_TAG);
  seq(out, o, f);
  be32(out, o + BhsField.DATA_SN, f.dataSN ?? 0);
  return BHS_LENGTH;
}

// ---------------------------------------------------------------- conveniences

type WithoutLength<F> = Omit<F, 'dataSegmentLength'>;

/** BHS + data + zero padding in one new Buffer (digests are the connection's business). */
function build<F extends { dataSegmentLength: number }>(
  encode: (out: Uint8Array, o: number, f: F) => number,
  fields: WithoutLength<F>,
  data: Uint8Array = EMPTY,
): Buffer {
  const out = Buffer.alloc(BHS_LENGTH + paddedLength(data.length));
  encode(out, 0, { ...fields, dataSegmentLength: data.length } as F);
  out.set(data, BHS_LENGTH);
  return out;
}

export const buildNopIn = (f: WithoutLength<NopInFields>, data?: Uint8Array): Buffer => build(encodeNopIn, f, data);
/** SCSI Response; with `sense` the data segment is SenseLength + sense (RFC 7143 11.4.7). */
export function buildScsiResponse(f: WithoutLength<ScsiResponseFields>, sense?: Uint8Array): Buffer {
  if (!sense || sense.length === 0) return build(encodeScsiResponse, f);
  const seg = Buffer.alloc(2 + sense.length);
  encodeSenseSegment(seg, 0, sense);
  return build(encodeScsiResponse, f, seg);
}
export const buildDataIn = (f: WithoutLength<DataInFields>, data?: Uint8Array): Buffer => build(encodeDataIn, f, data);
export const buildR2T = (f: R2TFields): Buffer => {
  const out = Buffer.alloc(BHS_LENGTH);
  encodeR2T(out, 0, f);
  return out;
};
export const buildTmfResponse = (f: TmfResponseFields): Buffer => {
  const out = Buffer.alloc(BHS_LENGTH);
  encodeTmfResponse(out, 0, f);
  return out;
};
export const buildLoginResponse = (f: WithoutLength<LoginResponseFields>, data?: Uint8Array): Buffer =>
  build(encodeLoginResponse, f, data);
export const buildTextResponse = (f: WithoutLength<TextResponseFields>, data?: Uint8Array): Buffer =>
  build(encodeTextResponse, f, data);
export const buildLogoutResponse = (f: LogoutResponseFields): Buffer => {
  const out = Buffer.alloc(BHS_LENGTH);
  encodeLogoutResponse(out, 0, f);
  return out;
};
export const buildAsyncMessage = (f: WithoutLength<AsyncMessageFields>, data?: Uint8Array): Buffer =>
  build(encodeAsyncMessage, f, data);
/** Reject carrying the offending PDU's BHS (first 48 bytes of `offendingHeader`). */
export const buildReject = (f: WithoutLength<RejectFields>, offendingHeader: Uint8Array): Buffer =>
  build(encodeReject, f, offendingHeader.subarray(0, BHS_LENGTH));
