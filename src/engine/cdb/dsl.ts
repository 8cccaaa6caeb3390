import { Op } from '../spec/opcodes';
import { PeripheralType } from '../spec/status';
import { FieldPointer, invalidCdbField, NexusError, Outcome } from '../result';

/**
 * The CDB field DSL (STYLE.md example 2): one row per opcode (+ service action) drives decoding,
 * reserved-bit checks, REPORT SUPPORTED OPERATION CODES, unit-attention skipping, implicit
 * HEAD OF QUEUE and reservation conflicts.
 */

export enum Dir { NONE = 0, IN = 1, OUT = 2, BIDI = 3 }

/** Device-type bitmask for rows: which peripheral device types support the command. */
export const DT = {
  DISK: 1 << PeripheralType.DISK,
  TAPE: 1 << PeripheralType.TAPE,
  CDROM: 1 << PeripheralType.CDROM,
  CHANGER: 1 << PeripheralType.CHANGER,
  ALL: 0xffffffff,
} as const;

/**
 * How reservations gate a command from an I_T nexus (SPC-2 5.5.1 for RESERVE/RELEASE, SPC-4 5.13
 * table 66 and SBC-4's persistent reservations table). Each class says both what an SPC-2
 * reservation held by another I_T nexus does and what a persistent reservation does; reserve.ts
 * `reservationConflict` is the one place that reads them.
 */
export enum ResvClass {
  /** Never conflicts (INQUIRY, REPORT LUNS, REQUEST SENSE, READ CAPACITY, LOG SENSE, ...). */
  ALLOWED = 0,
  /** Conflicts with another nexus's RESERVE; a write under persistent reservations. */
  CONFLICTS = 1,
  /** Conflicts with another nexus's RESERVE; a read under persistent reservations (allowed under Write Exclusive). */
  READ = 2,
  /** TEST UNIT READY: conflicts with another nexus's RESERVE, passes every persistent reservation (ALLOW COMMANDS 001b). */
  SPC2_ONLY = 3,
  /**
   * PERSISTENT RESERVE IN/OUT: SPC-2 5.5.1, they conflict while any RESERVE(6)/(10) is in effect,
   * whoever holds it; persistent reservations never block them (the PR state decides each one).
   */
  PERSISTENT_RESERVE = 4,
  /** RESERVE(6)/(10): conflicts with another nexus's RESERVE, and while any I_T nexus is registered (CRH 0). */
  RESERVE = 5,
  /** RELEASE(6)/(10): passes any RESERVE (releasing another's is a no-op); conflicts while any I_T nexus is registered. */
  RELEASE = 6,
}

/**
 * The readiness a command needs (SPC-4 5.11, SBC-4 4.19 and 4.11.2). Ordered: a class is served
 * in every state that the classes below it are.
 */
export enum ReadyClass {
  /** Needs a ready medium (the default): the medium and data commands. */
  MEDIUM = 0,
  /** Served while the unit is stopped but needs a medium (READ CAPACITY). */
  STOPPED = 1,
  /** Served with no medium and while stopped: inventory, mode, log, reservations, medium control. */
  NO_MEDIUM = 2,
  /** SBC-4 4.11.2: also served while a sanitize operation is in progress. */
  SANITIZING = 3,
}

/**
 * The asymmetric access states a command is served in (SPC-4 5.16.2.4): a column of the rows, read
 * by alua.ts accessRefusal. Ordered, like ReadyClass: a class is served in every state the
 * classes below it are.
 */
export enum AluaClass {
  /** Served only through active/optimized and active/non-optimized target port groups (the default). */
  ACTIVE = 0,
  /** SPC-4 5.16.2.4.4: also in standby (mode, log, diagnostics, persistent reservations). */
  STANDBY = 1,
  /** SPC-4 5.16.2.4.5, 5.16.2.4.6: also in unavailable and offline (SET TARGET PORT GROUPS). */
  UNAVAILABLE = 2,
  /** SPC-4 5.16.2.4.7: in every state, transitioning too (INQUIRY, REPORT LUNS, REQUEST SENSE, RTPG). */
  TRANSITIONING = 3,
}

/**
 * A CDB field: how to read it and where it sits, so that a handler refusing its value points the
 * sense-key-specific FIELD POINTER at it (SPC-4 4.5.2.4.2) from the row, never from an offset of
 * its own. `bit` is the field's highest bit for fields narrower than a byte; for whole-byte and
 * multi-byte fields it is absent (BPV = 0).
 */
export interface Field<T> { readonly read: (cdb: Uint8Array) => T; readonly byte: number; readonly bit?: number }

export const bit = (byte: number, b: number): Field<boolean> => ({ read: c => (c[byte] & (1 << b)) !== 0, byte, bit: b });
/** `width` bits whose lowest is bit `low` of `byte`. */
export const bits = (byte: number, low: number, width: number): Field<number> =>
  ({ read: c => (c[byte] >> low) & ((1 << width) - 1), byte, bit: low + width - 1 });
export const u8 = (byte: number): Field<number> => ({ read: c => c[byte], byte });
/** SBC-4 READ(6)/WRITE(6) TRANSFER LENGTH: one byte in which 0 means 256 blocks. */
export const u8Zero256 = (byte: number): Field<number> => ({ read: c => c[byte] === 0 ? 256 : c[byte], byte });
export const be16 = (byte: number): Field<number> => ({ read: c => (c[byte] << 8) | c[byte + 1], byte });
export const be24 = (byte: number): Field<number> => ({ read: c => (c[byte] << 16) | (c[byte + 1] << 8) | c[byte + 2], byte });
const readBe32 = (c: Uint8Array, byte: number): number =>
  ((c[byte] << 24) >>> 0) + ((c[byte + 1] << 16) | (c[byte + 2] << 8) | c[byte + 3]);
export const be32 = (byte: number): Field<number> => ({ read: c => readBe32(c, byte), byte });
export const be64 = (byte: number): Field<bigint> =>
  ({ read: c => (BigInt(readBe32(c, byte)) << 32n) | BigInt(readBe32(c, byte + 4)), byte });
/**
 * A 64-bit LBA (SBC-4 READ(16) etc.) as a number while it is below 2^53 (every LBA of a device
 * smaller than 2^53 blocks), as a bigint only above: the hot path allocates no BigInt for it.
 */
export const lba64 = (byte: number): Field<number | bigint> => ({
  read: c => {
    const hi = readBe32(c, byte);
    const lo = readBe32(c, byte + 4);
    return hi < 0x200000 ? hi * 0x100000000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  },
  byte,
});
/** READ(6)/WRITE(6): 21-bit LBA in bytes 1..3. */
export const lba21 = (): Field<number> => ({ read: c => ((c[1] & 0x1f) << 16) | (c[2] << 8) | c[3], byte: 1, bit: 4 });

/** The sense-key-specific FIELD POINTER at a row's field (SPC-4 4.5.2.4.2). */
export function pointerTo(field: Field<unknown>): FieldPointer {
  return { cd: true, byte: field.byte, bit: field.bit };
}

/**
 * SPC-4 4.2.5.2: the SERVICE ACTION of an opcode that has them, byte 1 bits 4..0 of its CDB. It
 * keys the row (CdbSpec.sa) rather than being one of its fields.
 */
export const SERVICE_ACTION = bits(1, 0, 5);

/** INVALID FIELD IN CDB pointing at a row's field (SPC-4 4.5.2.4.2). */
export function invalidField(field: Field<unknown>): Outcome {
  return invalidCdbField(field.byte, field.bit);
}

/** INVALID FIELD IN CDB at the field `name` of the row that decoded the command. */
export function invalidFieldOf(def: { readonly name: string; readonly fields: FieldMap }, name: string): Outcome {
  const field = def.fields[name];
  if (!field) throw new NexusError('ERR_CDB_FIELD', `${def.name} has no field ${name}`);
  return invalidField(field);
}

export type FieldMap = Record<string, Field<unknown>>;
export type Decoded<F extends FieldMap> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

export interface CdbSpec<F extends FieldMap> {
  op: Op;
  /** Service action (byte 1 bits 4..0) for the opcodes that have one. */
  sa?: number;
  name: string;
  /** CDB length in bytes. */
  size: number;
  dir: Dir;
  /** DT mask of device types that support the command. */
  types: number;
  /**
   * CDB usage data (SPC-4 6.35.3): byte 0 is the opcode, then for each byte a mask of the bits a
   * device server looks at. A bit set in the CDB outside its mask is INVALID FIELD IN CDB.
   */
  usage: readonly number[];
  fields: F;
  /** Bytes the command moves (Data-In for IN, Data-Out for OUT); absent = 0. */
  xfer?: (f: Decoded<F>, blockSize: number) => number;
  /**
   * For commands whose Data-Out is only meaningful at exactly the CDB's length: Data-Out of any
   * other length (more or less, including some for a length of zero) is refused instead of being
   * trimmed: INVALID FIELD IN CDB at the row's field named `field` when a CDB field sets the
   * length, otherwise INVALID FIELD IN COMMAND INFORMATION UNIT (the expected length itself is
   * wrong).
   */
  exactDataOut?: { field?: keyof F & string };
  /**
   * FCP-4 9.4.2 a): when the initiator expects to send less Data-Out than the CDB asks for, the
   * command runs normally but writes only the bytes that arrive; the blocks' remaining bytes keep
   * their contents. For the block writes whose CDB has an `lba` field.
   */
  truncatableDataOut?: boolean;
  /** SPC-4 5.14: INQUIRY, REPORT LUNS and REQUEST SENSE neither report nor clear unit attentions. */
  skipsUa?: boolean;
  /** Commands that a target runs ahead of the queue whatever their attribute (SCST's implicit HQ). */
  implicitHeadOfQueue?: boolean;
  resv: ResvClass;
  /** Readiness the command needs; absent = ReadyClass.MEDIUM. */
  ready?: ReadyClass;
  /** The asymmetric access states the command is served in; absent = AluaClass.ACTIVE. */
  alua?: AluaClass;
  /** Modifies the medium: refused with WRITE PROTECTED on read-only mappings and devices. */
  writes?: boolean;
  /** Reads the medium for the initiator: counted as a read command in the statistics log page (SPC-4 table 375). */
  countsAsRead?: boolean;
  /** Nominal and recommended command timeouts in seconds (RSOC with RCTD). */
  timeouts?: readonly [number, number];
}

export interface CdbDef<F extends FieldMap = FieldMap> extends CdbSpec<F> {
  decode(cdb: Uint8Array): Decoded<F>;
  /** Transfer length in bytes for this CDB on a device with `blockSize`. */
  xferBytes(f: Decoded<F>, blockSize: number): number;
}

export function cdb<F extends FieldMap>(spec: CdbSpec<F>): CdbDef<F> {
  if (spec.usage.length !== spec.size) {
    throw new NexusError('ERR_CDB_TABLE', `${spec.name}: usage mask has ${spec.usage.length} bytes, CDB has ${spec.size}`);
  }
  // Decoded on every command: plain arrays and an indexed loop, keys always inserted in the same
  // order so every decoded object of a row shares one hidden class.
  const keys = Object.keys(spec.fields) as Array<keyof F>;
  const readers = keys.map(k => spec.fields[k].read);
  const xfer = spec.xfer;
  return {
    ...spec,
    decode(c: Uint8Array): Decoded<F> {
      const out = {} as Record<keyof F, unknown>;
      for (let i = 0; i < keys.length; i++) out[keys[i]] = readers[i](c);
      return out as Decoded<F>;
    },
    xferBytes: xfer ? (f, bs) => xfer(f, bs) : () => 0,
  };
}

/** Standard control byte mask: NACA (bit 2) and LINK (bit 0) are not supported, so 0x00. */
export const CONTROL = 0x00;
