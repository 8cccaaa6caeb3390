// Typed, in-place access to command descriptors stored in shared memory (layout: layout.ts).
//
// A DescriptorCursor is a reusable window: `at(slot)` moves it, the getters and setters read and
// write that slot's bytes directly. Nothing is allocated per access, so one cursor per ring side
// serves every command that passes through it.

import { NexusError } from '../../engine/result';
import { TaskAttr } from '../../engine/spec/status';
import { ResidualKind } from '../../engine/command';
import {
  CDB_MAX_BYTES,
  DESCRIPTOR_BYTES,
  DescOffset,
  NO_BUFFER,
  SENSE_INLINE_BYTES,
} from './layout';

export { NO_BUFFER };

/** What a descriptor carries. 0 marks a slot that was never written. */
export enum DescKind {
  EMPTY = 0,
  COMMAND = 1,
  COMPLETION = 2,
  TMF = 3,
  TMF_DONE = 4,
  /** Data-Out that arrived after its COMMAND (sequence names the command). */
  DATA_OUT = 5,
  /** Opens an I_T nexus on the receiving thread; its identity is in the pool buffer (ring-client.ts). */
  NEXUS_OPEN = 6,
  /**
   * A unit attention reported as an asynchronous event (SAM-5 6.5), from a unit's home thread to
   * the thread of the session whose nexus it is: nexusId, lun and the sense inline.
   */
  ASYNC_EVENT = 7,
}

/** Data direction seen from the initiator (SAM-5 5.4: Data-In is target to initiator). */
export enum DescDirection {
  NONE = 0,
  DATA_IN = 1,
  DATA_OUT = 2,
  BIDI = 3,
}


const W_TAG = DescOffset.TAG >> 2;
const W_NEXUS = DescOffset.NEXUS_ID >> 2;
const W_LUN = DescOffset.LUN >> 2;
const W_EDTL = DescOffset.EXPECTED_DATA_TRANSFER_LENGTH >> 2;
const W_BUF = DescOffset.BUFFER_HANDLE >> 2;
const W_DLEN = DescOffset.DATA_LENGTH >> 2;
const W_RESID = DescOffset.RESIDUAL >> 2;
const W_SEQ = DescOffset.SEQUENCE >> 2;
const W_DEST = DescOffset.DEST_ACTOR >> 2;
const W_SRC = DescOffset.SOURCE_ACTOR >> 2;
const W_REFTAG = DescOffset.REFERENCED_TAG >> 2;
const SLOT_WORDS = DESCRIPTOR_BYTES >> 2;

/**
 * Cursor over `slots` consecutive descriptors starting at `byteOffset` of `buffer`.
 * `byteOffset` must be 4-byte aligned.
 */
export class DescriptorCursor {
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private w = 0; // first word of the current slot
  private b = 0; // first byte of the current slot
  /** Current slot index. */
  slot = 0;

  constructor(
    buffer: SharedArrayBuffer | ArrayBuffer,
    byteOffset: number,
    readonly slots: number,
  ) {
    if (byteOffset % 4 !== 0 || byteOffset + slots * DESCRIPTOR_BYTES > buffer.byteLength) {
      throw new NexusError('ERR_DESCRIPTOR_RANGE', `descriptor table does not fit at ${byteOffset}`);
    }
    this.u32 = new Uint32Array(buffer, byteOffset, slots * SLOT_WORDS);
    this.u8 = new Uint8Array(buffer, byteOffset, slots * DESCRIPTOR_BYTES);
  }

  /** Moves the cursor to `slot` (0 <= slot < slots) and returns it. */
  at(slot: number): this {
    this.slot = slot;
    this.w = slot * SLOT_WORDS;
    this.b = slot * DESCRIPTOR_BYTES;
    return this;
  }

  get tag(): number { return this.u32[this.w + W_TAG]; }
  set tag(v: number) { this.u32[this.w + W_TAG] = v; }
  get nexusId(): number { return this.u32[this.w + W_NEXUS]; }
  set nexusId(v: number) { this.u32[this.w + W_NEXUS] = v; }
  get lun(): number { return this.u32[this.w + W_LUN]; }
  set lun(v: number) { this.u32[this.w + W_LUN] = v; }
  get kind(): DescKind { return this.u8[this.b + DescOffset.KIND]; }
  set kind(v: DescKind) { this.u8[this.b + DescOffset.KIND] = v; }
  get taskAttribute(): TaskAttr { return this.u8[this.b + DescOffset.TASK_ATTRIBUTE]; }
  set taskAttribute(v: TaskAttr) { this.u8[this.b + DescOffset.TASK_ATTRIBUTE] = v; }
  get direction(): DescDirection { return this.u8[this.b + DescOffset.DIRECTION]; }
  set direction(v: DescDirection) { this.u8[this.b + DescOffset.DIRECTION] = v; }
  get cdbLength(): number { return this.u8[this.b + DescOffset.CDB_LENGTH]; }
  get expectedDataTransferLength(): number { return this.u32[this.w + W_EDTL]; }
  set expectedDataTransferLength(v: number) { this.u32[this.w + W_EDTL] = v; }
  /** BufferPool handle or NO_BUFFER (0xffffffff). */
  get bufferHandle(): number { return this.u32[this.w + W_BUF]; }
  set bufferHandle(v: number) { this.u32[this.w + W_BUF] = v; }
  get dataLength(): number { return this.u32[this.w + W_DLEN]; }
  set dataLength(v: number) { this.u32[this.w + W_DLEN] = v; }
  get residual(): number { return this.u32[this.w + W_RESID]; }
  set residual(v: number) { this.u32[this.w + W_RESID] = v; }
  get residualKind(): ResidualKind { return this.u8[this.b + DescOffset.RESIDUAL_KIND]; }
  set residualKind(v: ResidualKind) { this.u8[this.b + DescOffset.RESIDUAL_KIND] = v; }
  get sequence(): number { return this.u32[this.w + W_SEQ]; }
  set sequence(v: number) { this.u32[this.w + W_SEQ] = v; }
  get status(): number { return this.u8[this.b + DescOffset.STATUS]; }
  set status(v: number) { this.u8[this.b + DescOffset.STATUS] = v; }
  get senseLength(): number { return this.u8[this.b + DescOffset.SENSE_LENGTH]; }
  get tmfFunction(): number { return this.u8[this.b + DescOffset.TMF_FUNCTION]; }
  set tmfFunction(v: number) { this.u8[this.b + DescOffset.TMF_FUNCTION] = v; }
  get tmfResponse(): number { return this.u8[this.b + DescOffset.TMF_RESPONSE]; }
  set tmfResponse(v: number) { this.u8[this.b + DescOffset.TMF_RESPONSE] = v; }
  /** DescFlag bits. */
  get flags(): number { return this.u8[this.b + DescOffset.FLAGS]; }
  set flags(v: number) { this.u8[this.b + DescOffset.FLAGS] = v; }
  get destActor(): number { return this.u32[this.w + W_DEST]; }
  set destActor(v: number) { this.u32[this.w + W_DEST] = v; }
  get sourceActor(): number { return this.u32[this.w + W_SRC]; }
  set sourceActor(v: number) { this.u32[this.w + W_SRC] = v; }
  get referencedTag(): number { return this.u32[this.w + W_REFTAG]; }
  set referencedTag(v: number) { this.u32[this.w + W_REFTAG] = v; }

  /** Byte `i` of the CDB (0 <= i < 32). */
  cdbByte(i: number): number {
    return this.u8[this.b + DescOffset.CDB + i];
  }

  /** Copies `length` bytes of `src` (from `srcOffset`) into the CDB and sets cdbLength. */
  writeCdb(src: Uint8Array, length: number = src.length, srcOffset = 0): void {
    if (length > CDB_MAX_BYTES || srcOffset + length > src.length) {
      throw new NexusError('ERR_DESCRIPTOR_LENGTH', `CDB of ${length} bytes does not fit`);
    }
    const at = this.b + DescOffset.CDB;
    for (let i = 0; i < length; i++) this.u8[at + i] = src[srcOffset + i];
    this.u8[this.b + DescOffset.CDB_LENGTH] = length;
  }

  /** Copies the CDB into `dst` at `dstOffset`; returns cdbLength. */
  /** The CDB as a new array of exactly its length: the one copy out of the slot. */
  cdb(): Uint8Array {
    const at = this.b + DescOffset.CDB;
    return this.u8.slice(at, at + this.u8[this.b + DescOffset.CDB_LENGTH]);
  }

  /** Stores sense data inline, truncated to 96 bytes (see layout.ts); returns bytes stored. */
  writeSense(src: Uint8Array, length: number = src.length, srcOffset = 0): number {
    const n = Math.min(length, SENSE_INLINE_BYTES, src.length - srcOffset);
    const at = this.b + DescOffset.SENSE;
    for (let i = 0; i < n; i++) this.u8[at + i] = src[srcOffset + i];
    this.u8[this.b + DescOffset.SENSE_LENGTH] = n;
    return n;
  }

  /** Copies the inline sense into `dst` at `dstOffset`; returns senseLength. */
  readSense(dst: Uint8Array, dstOffset = 0): number {
    const n = this.u8[this.b + DescOffset.SENSE_LENGTH];
    const at = this.b + DescOffset.SENSE;
    for (let i = 0; i < n; i++) dst[dstOffset + i] = this.u8[at + i];
    return n;
  }

  /** Byte `i` of the inline sense data. */
  senseByte(i: number): number {
    return this.u8[this.b + DescOffset.SENSE + i];
  }

  /** Zeroes the slot and sets bufferHandle to NO_BUFFER. */
  clear(): this {
    this.u32.fill(0, this.w, this.w + SLOT_WORDS);
    this.u32[this.w + W_BUF] = NO_BUFFER;
    return this;
  }

  /** Copies the whole current slot of `other` into the current slot of this cursor. */
  copyFrom(other: DescriptorCursor): this {
    const src = other.u32;
    const s = other.w;
    for (let i = 0; i < SLOT_WORDS; i++) this.u32[this.w + i] = src[s + i];
    return this;
  }
}
