// RFC 7143 11: typed decoding of initiator PDUs and encoding of target PDUs.
// Decoders never throw on bad bytes: they return {ok:false} values. Encoders write a BHS into
// a caller-provided buffer (so connections can reuse header buffers) and return its length;
// build* conveniences return a fresh Buffer holding BHS + data + padding.
import {
  AhsType, BHS_FINAL, BHS_LENGTH, DATA_IN_FLAG_ACK, DATA_IN_FLAG_STATUS, IscsiOp,
  LOGIN_FLAG_CONTINUE, LOGIN_FLAG_TRANSIT, LoginStatus, LogoutReason, RESERVED_TAG,
  RESP_FLAG_BIDI_OVERFLOW, RESP_FLAG_BIDI_UNDERFLOW, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW,
  RejectReason, SCSI_CMD_ATTR_MASK, SCSI_CMD_FLAG_R, SCSI_CMD_FLAG_W, ScsiServiceResponse,
  SnackType, TEXT_FLAG_CONTINUE, TaskAttribute, TmfResponse, LogoutResponse, AsyncEvent,
} from './spec';
import {
  bhsDataSegmentLength, bhsImmediate, bhsItt, bhsOpcode, bhsTotalAhsLength, decodeLun, encodeLun,
  paddedLength, setBhsDataSegmentLength,
} from './bhs';

const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------- decoded initiator PDUs

interface Common {
  immediate: boolean;
  itt: number;
  /** Data segment (unpadded); empty when the PDU carries none. */
  data: Buffer;
}

export interface NopOut extends Common {
  op: IscsiOp.NOP_OUT;
  lun: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

export interface ScsiCommand extends Common {
  op: IscsiOp.SCSI_COMMAND;
  final: boolean;
  read: boolean;
  write: boolean;
  attr: TaskAttribute;
  lun: number;
  expectedDataTransferLength: number;
  cmdSN: number;
  expStatSN: number;
  /** 16 bytes from the BHS, or longer with an Extended CDB AHS (RFC 7143 11.2.2.3). */
  cdb: Buffer;
  /** RFC 7143 11.2.2.4: Bidirectional Read Expected Data Transfer Length AHS, when present. */
  bidiReadLength: number | undefined;
}

export interface DataOut extends Common {
  op: IscsiOp.SCSI_DATA_OUT;
  final: boolean;
  lun: number;
  ttt: number;
  expStatSN: number;
  dataSN: number;
  bufferOffset: number;
}

export interface TaskMgmtRequest extends Common {
  op: IscsiOp.TASK_MGMT_REQ;
  /** TmfFunction value; unknown codes are kept so the session answers TMF_NOT_SUPPORTED. */
  function: number;
  lun: number;
  referencedTaskTag: number;
  cmdSN: number;
  expStatSN: number;
  refCmdSN: number;
  expDataSN: number;
}

export interface LoginRequest extends Common {
  op: IscsiOp.LOGIN_REQ;
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionMin: number;
  /** 48-bit ISID as a number (exact: < 2^53). */
  isid: number;
  tsih: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

export interface TextRequest extends Common {
  op: IscsiOp.TEXT_REQ;
  final: boolean;
  continue: boolean;
  lun: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

export interface LogoutRequest extends Common {
  op: IscsiOp.LOGOUT_REQ;
  reasonCode: LogoutReason;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

export interface SnackRequest extends Common {
  op: IscsiOp.SNACK_REQ;
  type: SnackType;
  lun: number;
  /** Target Transfer Tag or SNACK Tag (RFC 7143 11.16.4). */
  ttt: number;
  expStatSN: number;
  begRun: number;
  runLength: number;
}

export type InitiatorPdu =
  | NopOut | ScsiCommand | DataOut | TaskMgmtRequest | LoginRequest | TextRequest | LogoutRequest | SnackRequest;

export type DecodeResult =
  | { ok: true; pdu: InitiatorPdu }
  | {
      ok: false;
      /** A Reject reason to answer with, or 'protocol-error' when the header cannot be trusted. */
      reason: RejectReason | 'protocol-error';
      detail: string;
      /** Initiator Task Tag of the offending PDU when the BHS was complete. */
      itt?: number;
    };

const u32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

function fail(reason: RejectReason | 'protocol-error', detail: string, itt?: number): DecodeResult {
  return { ok: false, reason, detail, itt };
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

interface Ahs { extendedCdb?: Buffer; bidiReadLength?: number }

/** RFC 7143 11.2.2: walk the AHS list; null when it is malformed. */
function parseAhs(h: Uint8Array, total: number): Ahs | null {
  const out: Ahs = {};
  let o = BHS_LENGTH;
  const end = BHS_LENGTH + total;
  while (o < end) {
    if (end - o < 4) return null;
    const len = u16(h, o); // AHSLength excludes AHSLength and AHSType, includes AHS-Specific
    const type = h[o + 2];
    const next = o + 3 + len + ((4 - ((3 + len) & 3)) & 3);
    if (len < 1 || next > end) return null;
    if (type === AhsType.EXTENDED_CDB) {
      if (out.extendedCdb) return null;
      out.extendedCdb = asBuffer(h).subarray(o + 4, o + 3 + len);
    } else if (type === AhsType.BIDI_READ_DATA_LENGTH) {
      if (len !== 5 || out.bidiReadLength !== undefined) return null;
      out.bidiReadLength = u32(h, o + 4);
    } else {
      return null;
    }
    o = next;
  }
  return out;
}

/**
 * Decode an initiator PDU. `header` is the BHS followed by its AHS (exactly as the framer
 * emits it); `data` is the unpadded data segment. The returned object may alias both.
 */
export function decodeInitiatorPdu(header: Uint8Array, data: Buffer = EMPTY): DecodeResult {
  if (header.length < BHS_LENGTH) return fail('protocol-error', 'BHS shorter than 48 bytes');
  const h = header;
  const op = bhsOpcode(h);
  const itt = bhsItt(h);
  const ahsLen = bhsTotalAhsLength(h);
  if (header.length !== BHS_LENGTH + ahsLen) return fail('protocol-error', 'AHS length does not match TotalAHSLength', itt);
  if (bhsDataSegmentLength(h) !== data.length) return fail('protocol-error', 'data length does not match DataSegmentLength', itt);
  const immediate = bhsImmediate(h);
  const f1 = h[1];
  const final = (f1 & BHS_FINAL) !== 0;
  // RFC 7143 11.2.2: only the SCSI Command carries AHS.
  if (ahsLen !== 0 && op !== IscsiOp.SCSI_COMMAND) return fail(RejectReason.PROTOCOL_ERROR, 'AHS on a PDU that takes none', itt);

  switch (op) {
    case IscsiOp.NOP_OUT:
      if (!final) return fail(RejectReason.PROTOCOL_ERROR, 'NOP-Out without F bit', itt);
      // RFC 7143 11.18: ITT 0xffffffff (a reply to a NOP-In) must be immediate.
      if (itt === RESERVED_TAG && !immediate) return fail(RejectReason.PROTOCOL_ERROR, 'NOP-Out reply not immediate', itt);
      return { ok: true, pdu: { op, immediate, itt, data, lun: decodeLun(h, 8), ttt: u32(h, 20), cmdSN: u32(h, 24), expStatSN: u32(h, 28) } };

    case IscsiOp.SCSI_COMMAND: {
      const read = (f1 & SCSI_CMD_FLAG_R) !== 0;
      const write = (f1 & SCSI_CMD_FLAG_W) !== 0;
      const ahs = parseAhs(h, ahsLen);
      if (!ahs) return fail(RejectReason.PROTOCOL_ERROR, 'malformed AHS', itt);
      // RFC 7143 11.3.1.1: unsolicited data only for writes; F=0 means Data-Out follows.
      if (data.length > 0 && !write) return fail(RejectReason.PROTOCOL_ERROR, 'immediate data on a command without W', itt);
      if (!final && !write) return fail(RejectReason.PROTOCOL_ERROR, 'F=0 on a command without W', itt);
      const base = asBuffer(h).subarray(32, 48);
      const cdb = ahs.extendedCdb ? Buffer.concat([base, ahs.extendedCdb]) : base;
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, final, read, write,
          attr: (f1 & SCSI_CMD_ATTR_MASK) as TaskAttribute,
          lun: decodeLun(h, 8),
          expectedDataTransferLength: u32(h, 20),
          cmdSN: u32(h, 24),
          expStatSN: u32(h, 28),
          cdb,
          bidiReadLength: ahs.bidiReadLength,
        },
      };
    }

    case IscsiOp.SCSI_DATA_OUT:
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, final, lun: decodeLun(h, 8), ttt: u32(h, 20), expStatSN: u32(h, 28),
          dataSN: u32(h, 36), bufferOffset: u32(h, 40),
        },
      };

    case IscsiOp.TASK_MGMT_REQ:
      // RFC 7143 11.5: byte 1 is 1 followed by the 7-bit function.
      if (!final) return fail(RejectReason.PROTOCOL_ERROR, 'TMF request without bit 7 of byte 1', itt);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, function: f1 & 0x7f, lun: decodeLun(h, 8), referencedTaskTag: u32(h, 20),
          cmdSN: u32(h, 24), expStatSN: u32(h, 28), refCmdSN: u32(h, 32), expDataSN: u32(h, 36),
        },
      };

    case IscsiOp.LOGIN_REQ: {
      const transit = (f1 & LOGIN_FLAG_TRANSIT) !== 0;
      const cont = (f1 & LOGIN_FLAG_CONTINUE) !== 0;
      // RFC 7143 11.12.2: a request with C=1 must have T=0.
      if (transit && cont) return fail(RejectReason.PROTOCOL_ERROR, 'Login with both T and C', itt);
      const isid = u16(h, 8) * 0x100000000 + u32(h, 10);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, transit, continue: cont, csg: (f1 >>> 2) & 3, nsg: f1 & 3,
          versionMax: h[2], versionMin: h[3], isid, tsih: u16(h, 14), cid: u16(h, 20),
          cmdSN: u32(h, 24), expStatSN: u32(h, 28),
        },
      };
    }

    case IscsiOp.TEXT_REQ: {
      const cont = (f1 & TEXT_FLAG_CONTINUE) !== 0;
      // RFC 7143 11.10.2: C=1 with F=1 is an error.
      if (final && cont) return fail(RejectReason.PROTOCOL_ERROR, 'Text request with both F and C', itt);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, final, continue: cont, lun: decodeLun(h, 8), ttt: u32(h, 20),
          cmdSN: u32(h, 24), expStatSN: u32(h, 28),
        },
      };
    }

    case IscsiOp.LOGOUT_REQ: {
      if (!final) return fail(RejectReason.PROTOCOL_ERROR, 'Logout without bit 7 of byte 1', itt);
      const reasonCode = f1 & 0x7f;
      if (reasonCode > LogoutReason.REMOVE_CONNECTION_FOR_RECOVERY) {
        return fail(RejectReason.INVALID_PDU_FIELD, 'unknown logout reason code', itt);
      }
      return {
        ok: true,
        pdu: { op, immediate, itt, data, reasonCode, cid: u16(h, 20), cmdSN: u32(h, 24), expStatSN: u32(h, 28) },
      };
    }

    case IscsiOp.SNACK_REQ: {
      const type = f1 & 0x0f;
      if (!final || type > SnackType.R_DATA) return fail(RejectReason.INVALID_PDU_FIELD, 'bad SNACK type', itt);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, type, lun: decodeLun(h, 8), ttt: u32(h, 20), expStatSN: u32(h, 28),
          begRun: u32(h, 40), runLength: u32(h, 44),
        },
      };
    }

    default:
      // RFC 7143 11.17.1: an opcode the target does not understand, including target opcodes.
      return fail(RejectReason.COMMAND_NOT_SUPPORTED, `opcode 0x${op.toString(16)} not supported`, itt);
  }
}

/** A ScsiCommand for decodeScsiCommandInto to fill (its `cdb` is a 16-byte buffer it owns). */
export function newScsiCommand(): ScsiCommand {
  return {
    op: IscsiOp.SCSI_COMMAND, immediate: false, itt: 0, data: EMPTY, final: false, read: false, write: false,
    attr: TaskAttribute.UNTAGGED, lun: 0, expectedDataTransferLength: 0, cmdSN: 0, expStatSN: 0,
    cdb: Buffer.alloc(16), bidiReadLength: undefined,
  };
}

/**
 * RFC 7143 11.3: the common SCSI Command (no AHS, well formed) decoded into `out` without
 * allocating; the CDB is copied into `out.cdb`. Returns false for anything else, which
 * decodeInitiatorPdu then decodes or rejects with its reason.
 */
export function decodeScsiCommandInto(h: Uint8Array, data: Buffer, out: ScsiCommand): boolean {
  if (h.length !== BHS_LENGTH || (h[0] & 0x3f) !== IscsiOp.SCSI_COMMAND || h[4] !== 0) return false;
  if (bhsDataSegmentLength(h) !== data.length) return false;
  const f1 = h[1];
  const write = (f1 & SCSI_CMD_FLAG_W) !== 0;
  const final = (f1 & BHS_FINAL) !== 0;
  // RFC 7143 11.3.1.1: the same conditions as decodeInitiatorPdu checks.
  if (!write && (data.length > 0 || !final)) return false;
  out.immediate = bhsImmediate(h);
  out.itt = bhsItt(h);
  out.data = data;
  out.final = final;
  out.read = (f1 & SCSI_CMD_FLAG_R) !== 0;
  out.write = write;
  out.attr = (f1 & SCSI_CMD_ATTR_MASK) as TaskAttribute;
  out.lun = decodeLun(h, 8);
  out.expectedDataTransferLength = u32(h, 20);
  out.cmdSN = u32(h, 24);
  out.expStatSN = u32(h, 28);
  const cdb = out.cdb;
  for (let i = 0; i < 16; i++) cdb[i] = h[32 + i];
  out.bidiReadLength = undefined;
  return true;
}

// ---------------------------------------------------------------- target PDU encoders

export enum Residual {
  NONE = 0,
  OVERFLOW = 1,
  UNDERFLOW = 2,
}

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
  out[o] = op;
  out[o + 1] = byte1;
  setBhsDataSegmentLength(out, o, dataSegmentLength);
}

function seq(out: Uint8Array, o: number, f: SeqFields): void {
  be32(out, o + 24, f.statSN);
  be32(out, o + 28, f.expCmdSN);
  be32(out, o + 32, f.maxCmdSN);
}

function residualFlags(kind: Residual, over: number, under: number): number {
  return kind === Residual.OVERFLOW ? over : kind === Residual.UNDERFLOW ? under : 0;
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
  encodeLun(out, o + 8, f.lun);
  be32(out, o + 16, f.itt);
  be32(out, o + 20, f.ttt);
  seq(out, o, f);
  return BHS_LENGTH;
}

export interface ScsiResponseFields extends SeqFields {
  itt: number;
  response: ScsiServiceResponse;
  status: number;
  expDataSN: number;
  residual: Residual;
  residualCount: number;
  bidiResidual?: Residual;
  bidiResidualCount?: number;
  snackTag?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.4: SCSI Response. */
export function encodeScsiResponse(out: Uint8Array, o: number, f: ScsiResponseFields): number {
  const flags =
    BHS_FINAL |
    residualFlags(f.residual, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW) |
    residualFlags(f.bidiResidual ?? Residual.NONE, RESP_FLAG_BIDI_OVERFLOW, RESP_FLAG_BIDI_UNDERFLOW);
  start(out, o, IscsiOp.SCSI_RESPONSE, flags, f.dataSegmentLength);
  out[o + 2] = f.response;
  out[o + 3] = f.status;
  be32(out, o + 16, f.itt);
  be32(out, o + 20, f.snackTag ?? 0);
  seq(out, o, f);
  be32(out, o + 36, f.expDataSN);
  be32(out, o + 40, f.bidiResidualCount ?? 0);
  be32(out, o + 44, f.residualCount);
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
  residual?: Residual;
  residualCount?: number;
  dataSegmentLength: number;
}

/** RFC 7143 11.7: SCSI Data-In. */
export function encodeDataIn(out: Uint8Array, o: number, f: DataInFields): number {
  const s = f.status !== undefined;
  if (s && !f.final) throw Object.assign(new Error('Data-In with S bit requires F bit'), { code: 'ERR_ISCSI_ENCODE' });
  let flags = (f.final ? BHS_FINAL : 0) | (f.ack ? DATA_IN_FLAG_ACK : 0);
  if (s) flags |= DATA_IN_FLAG_STATUS | residualFlags(f.residual ?? Residual.NONE, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW);
  start(out, o, IscsiOp.SCSI_DATA_IN, flags, f.dataSegmentLength);
  if (s) out[o + 3] = f.status as number;
  // RFC 7143 11.7.4: LUN is required with the A bit, otherwise it may be reserved; send it anyway.
  encodeLun(out, o + 8, f.lun);
  be32(out, o + 16, f.itt);
  be32(out, o + 20, f.ttt);
  be32(out, o + 24, s ? f.statSN : 0);
  be32(out, o + 28, f.expCmdSN);
  be32(out, o + 32, f.maxCmdSN);
  be32(out, o + 36, f.dataSN);
  be32(out, o + 40, f.bufferOffset);
  be32(out, o + 44, s ? f.residualCount ?? 0 : 0);
  return BHS_LENGTH;
}

/**
 * RFC 7143 11.7 / 11.7.4: the only Data-In of a read that fits one PDU, with phase collapse:
 * F and S set, DataSN 0, Buffer Offset 0, TTT 0xffffffff. The hot path of every small read, so
 * it takes its fields as arguments (no object per response) and writes all 48 bytes itself.
 */
export function encodeDataInStatus(
  out: Uint8Array, o: number, status: number, lun: number, itt: number, statSN: number, expCmdSN: number, maxCmdSN: number,
  residual: Residual, residualCount: number, dataSegmentLength: number,
): number {
  out[o] = IscsiOp.SCSI_DATA_IN;
  out[o + 1] = BHS_FINAL | DATA_IN_FLAG_STATUS | residualFlags(residual, RESP_FLAG_OVERFLOW, RESP_FLAG_UNDERFLOW);
  out[o + 2] = 0;
  out[o + 3] = status;
  out[o + 4] = 0;
  setBhsDataSegmentLength(out, o, dataSegmentLength);
  encodeLun(out, o + 8, lun);
  be32(out, o + 16, itt);
  be32(out, o + 20, RESERVED_TAG);
  be32(out, o + 24, statSN);
  be32(out, o + 28, expCmdSN);
  be32(out, o + 32, maxCmdSN);
  be32(out, o + 36, 0);
  be32(out, o + 40, 0);
  be32(out, o + 44, residual === Residual.NONE ? 0 : residualCount);
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
  encodeLun(out, o + 8, f.lun);
  be32(out, o + 16, f.itt);
  be32(out, o + 20, f.ttt);
  seq(out, o, f);
  be32(out, o + 36, f.r2tSN);
  be32(out, o + 40, f.bufferOffset);
  be32(out, o + 44, f.desiredDataTransferLength);
  return BHS_LENGTH;
}

export interface TmfResponseFields extends SeqFields {
  itt: number;
  response: TmfResponse;
}

/** RFC 7143 11.6: Task Management Function Response. */
export function encodeTmfResponse(out: Uint8Array, o: number, f: TmfResponseFields): number {
  start(out, o, IscsiOp.TASK_MGMT_RESP, BHS_FINAL, 0);
  out[o + 2] = f.response;
  be32(out, o + 16, f.itt);
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
  out[o + 2] = f.versionMax;
  out[o + 3] = f.versionActive;
  be16(out, o + 8, Math.floor(f.isid / 0x100000000));
  be32(out, o + 10, f.isid % 0x100000000);
  be16(out, o + 14, f.tsih);
  be32(out, o + 16, f.itt);
  seq(out, o, f);
  out[o + 36] = f.status >>> 8;
  out[o + 37] = f.status & 0xff;
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
  encodeLun(out, o + 8, f.lun);
  be32(out, o + 16, f.itt);
  be32(out, o + 20, f.ttt);
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
  out[o + 2] = f.response;
  be32(out, o + 16, f.itt);
  seq(out, o, f);
  be16(out, o + 40, f.time2Wait);
  be16(out, o + 42, f.time2Retain);
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
  encodeLun(out, o + 8, f.lun);
  be32(out, o + 16, RESERVED_TAG);
  seq(out, o, f);
  out[o + 36] = f.event;
  out[o + 37] = f.vcode ?? 0;
  be16(out, o + 38, f.parameter1 ?? 0);
  be16(out, o + 40, f.parameter2 ?? 0);
  be16(out, o + 42, f.parameter3 ?? 0);
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
  out[o + 2] = f.reason;
  be32(out, o + 16, RESERVED_TAG);
  seq(out, o, f);
  be32(out, o + 36, f.dataSN ?? 0);
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
