// RFC 7143 11 / 10.2.1.2: typed decoding of the PDUs an initiator sends. Decoders never throw on
// bad bytes: they return {ok:false} values naming the Reject reason.
import { TaskAttr } from '../../engine/spec/status';
import {
  AhsType, BHS_FINAL, BHS_LENGTH, IscsiOp, LOGIN_FLAG_CONTINUE, LOGIN_FLAG_TRANSIT, LogoutReason,
  RESERVED_TAG, RejectReason, SCSI_CMD_ATTR_MASK, SCSI_CMD_FLAG_R, SCSI_CMD_FLAG_W, SnackType,
  TEXT_FLAG_CONTINUE,
} from './spec';
import {
  bhsBufferOffset, bhsDataSegmentLength, bhsDataSN, bhsExpectedDataTransferLength, BhsField, bhsFinal, bhsFlags, bhsImmediate, bhsItt, bhsOpcode, bhsTotalAhsLength, bhsTtt, bhsU16, bhsU32, decodeLun,
} from './bhs';

const EMPTY = Buffer.alloc(0);
/** RFC 7143 11.3.6: the CDB field of the BHS (longer CDBs continue in an AHS). */
const CDB_BYTES = 16;

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
  attr: TaskAttr;
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

const u32 = bhsU32;
const u16 = bhsU16;

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
  const f1 = bhsFlags(h);
  const final = (f1 & BHS_FINAL) !== 0;
  // RFC 7143 11.2.2: only the SCSI Command carries AHS.
  if (ahsLen !== 0 && op !== IscsiOp.SCSI_COMMAND) return fail(RejectReason.PROTOCOL_ERROR, 'AHS on a PDU that takes none', itt);

  switch (op) {
    case IscsiOp.NOP_OUT:
      if (!final) return fail(RejectReason.PROTOCOL_ERROR, 'NOP-Out without F bit', itt);
      // RFC 7143 11.18: ITT 0xffffffff (a reply to a NOP-In) must be immediate.
      if (itt === RESERVED_TAG && !immediate) return fail(RejectReason.PROTOCOL_ERROR, 'NOP-Out reply not immediate', itt);
      return { ok: true, pdu: { op, immediate, itt, data, lun: decodeLun(h, BhsField.LUN), ttt: bhsTtt(h), cmdSN: u32(h, BhsField.CMD_SN), expStatSN: u32(h, BhsField.EXP_STAT_SN) } };

    case IscsiOp.SCSI_COMMAND: {
      const read = (f1 & SCSI_CMD_FLAG_R) !== 0;
      const write = (f1 & SCSI_CMD_FLAG_W) !== 0;
      const ahs = parseAhs(h, ahsLen);
      if (!ahs) return fail(RejectReason.PROTOCOL_ERROR, 'malformed AHS', itt);
      // RFC 7143 11.3.1.1: unsolicited data only for writes; F=0 means Data-Out follows.
      if (data.length > 0 && !write) return fail(RejectReason.PROTOCOL_ERROR, 'immediate data on a command without W', itt);
      if (!final && !write) return fail(RejectReason.PROTOCOL_ERROR, 'F=0 on a command without W', itt);
      const base = asBuffer(h).subarray(BhsField.CDB, BhsField.CDB + CDB_BYTES);
      const cdb = ahs.extendedCdb ? Buffer.concat([base, ahs.extendedCdb]) : base;
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, final, read, write,
          attr: (f1 & SCSI_CMD_ATTR_MASK) as TaskAttr,
          lun: decodeLun(h, BhsField.LUN),
          expectedDataTransferLength: bhsExpectedDataTransferLength(h),
          cmdSN: u32(h, BhsField.CMD_SN),
          expStatSN: u32(h, BhsField.EXP_STAT_SN),
          cdb,
          bidiReadLength: ahs.bidiReadLength,
        },
      };
    }

    case IscsiOp.SCSI_DATA_OUT:
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, final, lun: decodeLun(h, BhsField.LUN), ttt: bhsTtt(h), expStatSN: u32(h, BhsField.EXP_STAT_SN),
          dataSN: bhsDataSN(h), bufferOffset: bhsBufferOffset(h),
        },
      };

    case IscsiOp.TASK_MGMT_REQ:
      // RFC 7143 11.5: byte 1 is 1 followed by the 7-bit function.
      if (!final) return fail(RejectReason.PROTOCOL_ERROR, 'TMF request without bit 7 of byte 1', itt);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, function: f1 & 0x7f, lun: decodeLun(h, BhsField.LUN), referencedTaskTag: u32(h, BhsField.REFERENCED_TASK_TAG),
          cmdSN: u32(h, BhsField.CMD_SN), expStatSN: u32(h, BhsField.EXP_STAT_SN), refCmdSN: u32(h, BhsField.REF_CMD_SN), expDataSN: u32(h, BhsField.EXP_DATA_SN),
        },
      };

    case IscsiOp.LOGIN_REQ: {
      const transit = (f1 & LOGIN_FLAG_TRANSIT) !== 0;
      const cont = (f1 & LOGIN_FLAG_CONTINUE) !== 0;
      // RFC 7143 11.12.2: a request with C=1 must have T=0.
      if (transit && cont) return fail(RejectReason.PROTOCOL_ERROR, 'Login with both T and C', itt);
      // RFC 7143 11.12.5: the 6-byte ISID.
      const isid = u16(h, BhsField.ISID) * 0x100000000 + u32(h, BhsField.ISID + 2);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, transit, continue: cont, csg: (f1 >>> 2) & 3, nsg: f1 & 3,
          versionMax: h[BhsField.VERSION_MAX], versionMin: h[BhsField.VERSION_MIN], isid, tsih: u16(h, BhsField.TSIH), cid: u16(h, BhsField.CID),
          cmdSN: u32(h, BhsField.CMD_SN), expStatSN: u32(h, BhsField.EXP_STAT_SN),
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
          op, immediate, itt, data, final, continue: cont, lun: decodeLun(h, BhsField.LUN), ttt: bhsTtt(h),
          cmdSN: u32(h, BhsField.CMD_SN), expStatSN: u32(h, BhsField.EXP_STAT_SN),
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
        pdu: { op, immediate, itt, data, reasonCode, cid: u16(h, BhsField.CID), cmdSN: u32(h, BhsField.CMD_SN), expStatSN: u32(h, BhsField.EXP_STAT_SN) },
      };
    }

    case IscsiOp.SNACK_REQ: {
      const type = f1 & 0x0f;
      if (!final || type > SnackType.R_DATA) return fail(RejectReason.INVALID_PDU_FIELD, 'bad SNACK type', itt);
      return {
        ok: true,
        pdu: {
          op, immediate, itt, data, type, lun: decodeLun(h, BhsField.LUN), ttt: bhsTtt(h), expStatSN: u32(h, BhsField.EXP_STAT_SN),
          begRun: u32(h, BhsField.BEG_RUN), runLength: u32(h, BhsField.RUN_LENGTH),
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
    attr: TaskAttr.UNTAGGED, lun: 0, expectedDataTransferLength: 0, cmdSN: 0, expStatSN: 0,
    cdb: Buffer.alloc(CDB_BYTES), bidiReadLength: undefined,
  };
}

/**
 * RFC 7143 11.3: the common SCSI Command (no AHS, well formed) decoded into `out` without
 * allocating; the CDB is copied into `out.cdb`. Returns false for anything else, which
 * decodeInitiatorPdu then decodes or rejects with its reason.
 */
export function decodeScsiCommandInto(h: Uint8Array, data: Buffer, out: ScsiCommand): boolean {
  if (h.length !== BHS_LENGTH || bhsOpcode(h) !== IscsiOp.SCSI_COMMAND || bhsTotalAhsLength(h) !== 0) return false;
  if (bhsDataSegmentLength(h) !== data.length) return false;
  const f1 = bhsFlags(h);
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
  out.attr = (f1 & SCSI_CMD_ATTR_MASK) as TaskAttr;
  out.lun = decodeLun(h, BhsField.LUN);
  out.expectedDataTransferLength = bhsExpectedDataTransferLength(h);
  out.cmdSN = u32(h, BhsField.CMD_SN);
  out.expStatSN = u32(h, BhsField.EXP_STAT_SN);
  const cdb = out.cdb;
  for (let i = 0; i < CDB_BYTES; i++) cdb[i] = h[BhsField.CDB + i];
  out.bidiReadLength = undefined;
  return true;
}


/** A DataOut for decodeDataOutInto to fill. */
export function newDataOut(): DataOut {
  return {
    op: IscsiOp.SCSI_DATA_OUT, immediate: false, itt: 0, data: EMPTY, final: false, lun: 0, ttt: 0, expStatSN: 0, dataSN: 0,
    bufferOffset: 0,
  };
}

/**
 * RFC 7143 11.7: a well-formed SCSI Data-Out (no AHS) decoded into `out` without allocating
 * (one per PDU of every write that is not all immediate data). Returns false for anything else,
 * which decodeInitiatorPdu then decodes or rejects with its reason.
 */
export function decodeDataOutInto(h: Uint8Array, data: Buffer, out: DataOut): boolean {
  if (h.length !== BHS_LENGTH || bhsOpcode(h) !== IscsiOp.SCSI_DATA_OUT || bhsTotalAhsLength(h) !== 0) return false;
  if (bhsDataSegmentLength(h) !== data.length) return false;
  out.immediate = bhsImmediate(h);
  out.itt = bhsItt(h);
  out.data = data;
  out.final = bhsFinal(h);
  out.lun = decodeLun(h, BhsField.LUN);
  out.ttt = bhsTtt(h);
  out.expStatSN = u32(h, BhsField.EXP_STAT_SN);
  out.dataSN = bhsDataSN(h);
  out.bufferOffset = bhsBufferOffset(h);
  return true;
}
