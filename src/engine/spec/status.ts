/** SAM-5 status codes, sense keys, task attributes and task management functions. */

export enum Status {
  GOOD = 0x00,
  CHECK_CONDITION = 0x02,
  CONDITION_MET = 0x04,
  BUSY = 0x08,
  RESERVATION_CONFLICT = 0x18,
  TASK_SET_FULL = 0x28,
  ACA_ACTIVE = 0x30,
  TASK_ABORTED = 0x40,
}

export enum SenseKey {
  NO_SENSE = 0x0,
  RECOVERED_ERROR = 0x1,
  NOT_READY = 0x2,
  MEDIUM_ERROR = 0x3,
  HARDWARE_ERROR = 0x4,
  ILLEGAL_REQUEST = 0x5,
  UNIT_ATTENTION = 0x6,
  DATA_PROTECT = 0x7,
  BLANK_CHECK = 0x8,
  VENDOR_SPECIFIC = 0x9,
  COPY_ABORTED = 0xa,
  ABORTED_COMMAND = 0xb,
  VOLUME_OVERFLOW = 0xd,
  MISCOMPARE = 0xe,
}

/** SAM-5 task attributes (values as carried in iSCSI's ATTR field). */
export enum TaskAttr {
  UNTAGGED = 0,
  SIMPLE = 1,
  ORDERED = 2,
  HEAD_OF_QUEUE = 3,
  ACA = 4,
}

/** SAM-5 task management functions (values as carried in iSCSI's Function field). */
export enum TmfFunction {
  ABORT_TASK = 1,
  ABORT_TASK_SET = 2,
  CLEAR_ACA = 3,
  CLEAR_TASK_SET = 4,
  LOGICAL_UNIT_RESET = 5,
  TARGET_WARM_RESET = 6,
  TARGET_COLD_RESET = 7,
  TASK_REASSIGN = 8,
  QUERY_TASK = 9,
  QUERY_TASK_SET = 10,
  I_T_NEXUS_RESET = 11,
  QUERY_ASYNC_EVENT = 12,
}

/** Task management service responses (iSCSI's Response field, RFC 7143 11.6.1). */
export enum TmfResponse {
  FUNCTION_COMPLETE = 0,
  TASK_DOES_NOT_EXIST = 1,
  LUN_DOES_NOT_EXIST = 2,
  TASK_STILL_ALLEGIANT = 3,
  TASK_REASSIGNMENT_NOT_SUPPORTED = 4,
  FUNCTION_NOT_SUPPORTED = 5,
  FUNCTION_AUTHORIZATION_FAILED = 6,
  /** SAM-5 FUNCTION SUCCEEDED, used by the QUERY functions to say "yes, there is one". */
  FUNCTION_SUCCEEDED = 7,
  FUNCTION_REJECTED = 255,
}

/** Peripheral device types (SPC-4 table 141). */
export enum PeripheralType {
  DISK = 0x00,
  TAPE = 0x01,
  CDROM = 0x05,
  CHANGER = 0x08,
  UNKNOWN = 0x1f,
}
