import { Status } from './spec/status';
import { SENSE, SenseCondition } from './spec/asc';

/**
 * The outcome of a command as a value (STYLE.md "Outcomes and errors"): handlers return one of
 * these; sense bytes are made once, at completion, by the sense builder.
 */

/** SPC-4 4.5.2.4.2: the sense-key-specific field pointer of ILLEGAL REQUEST. */
export interface FieldPointer {
  /** true: the error is in the CDB; false: in the parameter list (Data-Out). */
  cd: boolean;
  byte: number;
  /** Bit number 0..7, or undefined when the whole byte/field is wrong (BPV = 0). */
  bit?: number;
}

export interface SenseSpec {
  cond: SenseCondition;
  /** INFORMATION field: the LBA in error, or the miscompare offset. */
  information?: bigint;
  fieldPointer?: FieldPointer;
  /** COMMAND-SPECIFIC INFORMATION field. */
  commandSpecific?: bigint;
  /**
   * SPC-4 4.5.2.1 / 4.5.3 stream bits of sequential-access devices (SSC-4 4.2): a filemark was
   * read or spaced over (FILEMARK), the position is at or past early warning or at beginning of
   * partition (EOM), the block's length did not match the requested length (ILI).
   */
  filemark?: boolean;
  eom?: boolean;
  ili?: boolean;
  /**
   * SPC-4 4.5.2.4.4 PROGRESS INDICATION of an operation under way (NO SENSE or NOT READY): the
   * fraction done, times 65536 (0..65535).
   */
  progress?: number;
}

export interface Outcome {
  status: Status;
  /** Present iff status is CHECK CONDITION. */
  sense?: SenseSpec;
  /**
   * Data-In produced by the command. It may be longer than the allocation length: the pipeline
   * trims it to the CDB's transfer length and computes residuals, never the handler. With CHECK
   * CONDITION only where the command set moves data before its exception (checkWithData).
   */
  data?: Uint8Array;
  /** `data` is a leased buffer (read-buffers.ts): the Completion carries this on to the transport. */
  release?: () => void;
  /**
   * Sense data exactly as a pass-through device returned it, sent to the initiator unchanged;
   * `sense` then names the same condition (statistics, unit attention fan-out).
   */
  senseBytes?: Uint8Array;
}

export const GOOD: Outcome = Object.freeze({ status: Status.GOOD }) as Outcome;
export const RESERVATION_CONFLICT: Outcome = Object.freeze({ status: Status.RESERVATION_CONFLICT }) as Outcome;
export const BUSY: Outcome = Object.freeze({ status: Status.BUSY }) as Outcome;
export const TASK_SET_FULL: Outcome = Object.freeze({ status: Status.TASK_SET_FULL }) as Outcome;
export const TASK_ABORTED: Outcome = Object.freeze({ status: Status.TASK_ABORTED }) as Outcome;

export function good(data?: Uint8Array): Outcome {
  return data ? { status: Status.GOOD, data } : GOOD;
}

/** GOOD with Data-In in a leased buffer that the transport gives back once it is sent. */
export function goodLeased(data: Uint8Array, release: () => void): Outcome {
  return { status: Status.GOOD, data, release };
}

export function check(cond: SenseCondition, extra?: Omit<SenseSpec, 'cond'>): Outcome {
  return { status: Status.CHECK_CONDITION, sense: { cond, ...extra } };
}

/**
 * CHECK CONDITION that still moves Data-In: a tape READ that stops at a filemark, end-of-data or
 * a block of another length returns the data it read with the sense that says why (SSC-4 4.2.x).
 */
export function checkWithData(data: Uint8Array, cond: SenseCondition, extra?: Omit<SenseSpec, 'cond'>): Outcome {
  return { status: Status.CHECK_CONDITION, sense: { cond, ...extra }, data };
}

/** CHECK CONDITION with the sense bytes a pass-through device returned, `cond` parsed from them. */
export function deviceCheck(cond: SenseCondition, senseBytes: Uint8Array): Outcome {
  return { status: Status.CHECK_CONDITION, sense: { cond }, senseBytes };
}

/** INVALID FIELD IN CDB pointing at `byte` (and `bit` when one bit is at fault). */
export function invalidCdbField(byte: number, bit?: number): Outcome {
  return check(SENSE.INVALID_FIELD_IN_CDB, { fieldPointer: { cd: true, byte, bit } });
}

/** INVALID FIELD IN PARAMETER LIST pointing into the Data-Out buffer. */
export function invalidParamField(byte: number, bit?: number): Outcome {
  return check(SENSE.INVALID_FIELD_IN_PARAMETER_LIST, { fieldPointer: { cd: false, byte, bit } });
}

/** Thrown only for bugs and misuse; carries a stable code (STYLE.md). */
export class NexusError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'NexusError';
  }
}
