// iSCSI wire constants (RFC 7143, with RFC 7144 additions). The only place iSCSI code
// numbers appear; every other module names them through these enums.

// RFC 7143 11.2.1.2: opcodes. 0x00-0x1f initiator PDUs, 0x20-0x3f target PDUs.
export enum IscsiOp {
  NOP_OUT = 0x00,
  SCSI_COMMAND = 0x01,
  TASK_MGMT_REQ = 0x02,
  LOGIN_REQ = 0x03,
  TEXT_REQ = 0x04,
  SCSI_DATA_OUT = 0x05,
  LOGOUT_REQ = 0x06,
  SNACK_REQ = 0x10,
  NOP_IN = 0x20,
  SCSI_RESPONSE = 0x21,
  TASK_MGMT_RESP = 0x22,
  LOGIN_RESP = 0x23,
  TEXT_RESP = 0x24,
  SCSI_DATA_IN = 0x25,
  LOGOUT_RESP = 0x26,
  R2T = 0x31,
  ASYNC_MSG = 0x32,
  REJECT = 0x3f,
}

// RFC 7143 11.2: Basic Header Segment geometry.
export const BHS_LENGTH = 48;
export const DIGEST_LENGTH = 4;
/** RFC 7143 11.2.1.3: TotalAHSLength counts 4-byte words in one byte. */
export const MAX_AHS_LENGTH = 255 * 4;
/** RFC 7143 11.2.1.4: DataSegmentLength is 24 bits. */
export const MAX_DATA_SEGMENT_LENGTH = 0xffffff;
/** RFC 7143 11.2.1.5 (reserved tag): "no task" Initiator/Target Transfer Tag. */
export const RESERVED_TAG = 0xffffffff;

// RFC 7143 11.2.1.1: byte 0 flags.
export const BHS_IMMEDIATE = 0x40;
export const BHS_OPCODE_MASK = 0x3f;
/** Final bit in byte 1 of most PDUs. */
export const BHS_FINAL = 0x80;

// RFC 7143 11.2.2: AHS types.
export enum AhsType {
  EXTENDED_CDB = 1,
  BIDI_READ_DATA_LENGTH = 2,
}

// RFC 7143 11.3.1: SCSI Command byte 1 flags and task attributes.
export const SCSI_CMD_FLAG_R = 0x40;
export const SCSI_CMD_FLAG_W = 0x20;
export const SCSI_CMD_ATTR_MASK = 0x07;
// RFC 7143 11.4.1 / 11.7: SCSI Response and Data-In byte 1 flags.
export const RESP_FLAG_BIDI_OVERFLOW = 0x10; // o
export const RESP_FLAG_BIDI_UNDERFLOW = 0x08; // u
export const RESP_FLAG_OVERFLOW = 0x04; // O
export const RESP_FLAG_UNDERFLOW = 0x02; // U
export const DATA_IN_FLAG_ACK = 0x40; // A
export const DATA_IN_FLAG_STATUS = 0x01; // S

// RFC 7143 11.4.3: iSCSI service response.
export enum ScsiServiceResponse {
  COMMAND_COMPLETED_AT_TARGET = 0x00,
  TARGET_FAILURE = 0x01,
}

// RFC 7143 11.5.1 + RFC 7144 6.1: Task Management function codes are SAM-5's, numbered as the
// engine numbers them.
export { TmfFunction } from '../../engine/spec/status';

// RFC 7143 11.6.1 + RFC 7144 6.2: Task Management responses.
export enum TmfResponse {
  FUNCTION_COMPLETE = 0,
  TASK_DOES_NOT_EXIST = 1,
  LUN_DOES_NOT_EXIST = 2,
  TASK_STILL_ALLEGIANT = 3,
  TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED = 4,
  TMF_NOT_SUPPORTED = 5,
  FUNCTION_AUTHORIZATION_FAILED = 6,
  FUNCTION_SUCCEEDED = 7,
  FUNCTION_REJECTED = 255,
}

// RFC 7143 11.9.1: asynchronous events.
export enum AsyncEvent {
  SCSI_ASYNC_EVENT = 0,
  LOGOUT_REQUESTED = 1,
  CONNECTION_DROP = 2,
  SESSION_DROP = 3,
  NEGOTIATION_REQUESTED = 4,
  TASK_TERMINATION = 5,
  VENDOR_SPECIFIC = 255,
}

// RFC 7143 11.12.3: login stages (CSG/NSG).
export enum LoginStage {
  SECURITY_NEGOTIATION = 0,
  LOGIN_OPERATIONAL_NEGOTIATION = 1,
  FULL_FEATURE_PHASE = 3,
}
export const LOGIN_FLAG_TRANSIT = 0x80; // T
export const LOGIN_FLAG_CONTINUE = 0x40; // C
export const TEXT_FLAG_CONTINUE = 0x40; // C
/** RFC 7143 11.12.4: the only version defined. */
export const ISCSI_VERSION = 0x00;

// RFC 7143 11.13.5: Login status class and detail, as one 16-bit code (class << 8 | detail).
export enum LoginStatusClass {
  SUCCESS = 0,
  REDIRECTION = 1,
  INITIATOR_ERROR = 2,
  TARGET_ERROR = 3,
}
export enum LoginStatus {
  SUCCESS = 0x0000,
  TARGET_MOVED_TEMPORARILY = 0x0101,
  TARGET_MOVED_PERMANENTLY = 0x0102,
  INITIATOR_ERROR = 0x0200,
  AUTHENTICATION_FAILURE = 0x0201,
  AUTHORIZATION_FAILURE = 0x0202,
  NOT_FOUND = 0x0203,
  TARGET_REMOVED = 0x0204,
  UNSUPPORTED_VERSION = 0x0205,
  TOO_MANY_CONNECTIONS = 0x0206,
  MISSING_PARAMETER = 0x0207,
  CANT_INCLUDE_IN_SESSION = 0x0208,
  SESSION_TYPE_NOT_SUPPORTED = 0x0209,
  SESSION_DOES_NOT_EXIST = 0x020a,
  INVALID_DURING_LOGIN = 0x020b,
  TARGET_ERROR = 0x0300,
  SERVICE_UNAVAILABLE = 0x0301,
  OUT_OF_RESOURCES = 0x0302,
}
export function loginStatusClass(s: LoginStatus): LoginStatusClass {
  return (s >> 8) as LoginStatusClass;
}
export function loginStatusDetail(s: LoginStatus): number {
  return s & 0xff;
}

// RFC 7143 11.14.1: logout reason codes.
export enum LogoutReason {
  CLOSE_SESSION = 0,
  CLOSE_CONNECTION = 1,
  REMOVE_CONNECTION_FOR_RECOVERY = 2,
}
// RFC 7143 11.15.1: logout responses.
export enum LogoutResponse {
  CLOSED_SUCCESSFULLY = 0,
  CID_NOT_FOUND = 1,
  CONNECTION_RECOVERY_NOT_SUPPORTED = 2,
  CLEANUP_FAILED = 3,
}

// RFC 7143 11.16.1: SNACK types.
export enum SnackType {
  DATA_R2T = 0,
  STATUS = 1,
  DATA_ACK = 2,
  R_DATA = 3,
}

// RFC 7143 11.17.1: Reject reasons.
export enum RejectReason {
  DATA_DIGEST_ERROR = 0x02,
  SNACK_REJECT = 0x03,
  PROTOCOL_ERROR = 0x04,
  COMMAND_NOT_SUPPORTED = 0x05,
  IMMEDIATE_COMMAND_REJECT = 0x06,
  TASK_IN_PROGRESS = 0x07,
  INVALID_DATA_ACK = 0x08,
  INVALID_PDU_FIELD = 0x09,
  LONG_OPERATION_REJECT = 0x0a,
  DEPRECATED_NEGOTIATION_RESET = 0x0b,
  WAITING_FOR_LOGOUT = 0x0c,
}
