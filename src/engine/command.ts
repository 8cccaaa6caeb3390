import { Status, TaskAttr } from './spec/status';

/** What a transport hands the engine for one SCSI command (SAM-5 5.1 Execute Command). */
export interface CommandRequest {
  /** LUN as a flat number (the transport decodes the 8-byte LUN field). */
  lun: number;
  cdb: Uint8Array;
  /** Task tag, unique among this nexus's tasks in flight (iSCSI ITT). */
  tag: number;
  attr: TaskAttr;
  /** The initiator's Expected Data Transfer Length in bytes. */
  expectedLength: number;
  /** Data-Out the initiator sent, collected by the transport (at most expectedLength bytes). */
  dataOut?: Uint8Array;
  /**
   * Data-Out still in transfer (iSCSI R2T sequences): the command is received now, in command
   * order, and waits at the task set's arrival stage; it enters the task set only once its data is
   * in (task-set.ts: Data-Out before the task set). The transport calls `cb` once with the
   * complete Data-Out (expectedLength bytes), or with undefined if the transfer failed or the task
   * was aborted on the wire.
   */
  dataOutLater?: (cb: (data: Uint8Array | undefined) => void) => void;
}

export enum ResidualKind { NONE = 0, UNDERFLOW = 1, OVERFLOW = 2 }

export interface Completion {
  status: Status;
  /** Sense data bytes (fixed or descriptor format) for CHECK CONDITION. */
  sense?: Buffer;
  /**
   * Data-In, never longer than expectedLength. Read-only for the transport: it may be a view of a
   * buffer the backstore lends (the null store's shared zeros, a pool buffer), so it is written to
   * the wire as it is and never modified.
   */
  data?: Uint8Array;
  residualKind: ResidualKind;
  /** Residual count in bytes (SAM-5 5.3 / RFC 7143 11.4.5). */
  residual: number;
  /**
   * The task was aborted by task management and, with TAS=0, has no status to return: the transport
   * frees the task without sending a response (RFC 7143 11.5.1).
   */
  aborted?: boolean;
  /**
   * Present when `data` lives in a shared pool buffer (engine threads): the transport calls it once
   * the Data-In bytes are written to the socket; `data` must not be used afterwards.
   */
  release?: () => void;
}

export type CompletionCallback = (c: Completion) => void;

export interface TmfRequest {
  fn: import('./spec/status').TmfFunction;
  lun: number;
  /** Referenced task tag (ABORT TASK, QUERY TASK). */
  refTag?: number;
}

/**
 * SAM-5 6.5: a unit attention condition of ANNOUNCED_CONDITIONS (ua.ts) reported to the
 * initiator as an asynchronous event, without waiting for a command (iSCSI: an Asynchronous
 * Message, RFC 7143 11.9.1 AsyncEvent 0). The condition stays queued for the next command too.
 */
export interface AsyncEventReport {
  readonly lun: number;
  /** The condition's sense data, in the format the unit's control mode page asks for (SPC-4 4.5). */
  readonly sense: Uint8Array;
}
