import { senseFromErrno, IoDirection } from './backstores/errno-sense';
import * as D from './cdb/defs/xcopy';
import { invalidFieldOf } from './cdb/dsl';
import { GOOD, Outcome, check, good, invalidParamField } from './result';
import { IO_CHUNK_BYTES, byteOffset } from './sbc-io';
import { rangeLockFor, Unlock } from './range-lock';
import { SENSE, SenseCondition } from './spec/asc';
import { PeripheralType } from './spec/status';
import { Binding, ExecContext, LuView, NexusView, bind } from './types';

/**
 * The copy manager (SPC-4 5.17, 6.4 EXTENDED COPY (LID1), 6.18 RECEIVE COPY RESULTS): what
 * VMware's XCOPY offload and libiscsi's SCSI.ExtendedCopy use. Block-to-block segments (02h)
 * between logical units named by identification CSCD descriptors (E4h) carrying an NAA designator;
 * the data moves through the backstores in chunks, under a shared range lock on the source and an
 * exclusive one on the destination, and never crosses the transport.
 *
 * Copy targets: the unit that received the command always matches its own NAA designator; other
 * units are found through the unit's `copyTargets` (LuView), which Engine.addDevice sets to a lookup
 * over the units of that Engine (units homed on another engine thread are not reachable and get
 * COPY ABORTED, UNREACHABLE COPY TARGET).
 *
 * Copy status is kept per copy manager (unit), per I_T nexus and LIST IDENTIFIER, for commands
 * whose LIST ID USAGE is 00b (SPC-4 table 127), until RECEIVE COPY RESULTS reports it complete.
 */

/**
 * The limits RECEIVE COPY RESULTS (OPERATING PARAMETERS) reports; the parameter list checks
 * enforce the same numbers. MAXIMUM SEGMENT LENGTH needs no check: a block-to-block segment moves
 * at most 65535 blocks of at most 4096 bytes, which is the value reported.
 */
export const COPY_MANAGER_LIMITS = Object.freeze({
  maxTargetDescriptors: 8,
  maxSegmentDescriptors: 64,
  /** Target plus segment descriptor list bytes: eight targets and 64 block-to-block segments. */
  maxDescriptorListLength: 8 * 32 + 64 * 28,
  maxSegmentLengthBytes: 65535 * 4096,
  /** No inline or embedded data, no held data (segment descriptors with CAT/held data are not offered). */
  maxInlineDataLength: 0,
  heldDataLimit: 0,
  /** EXTENDED COPY commands running at once on one copy manager, over all I_T nexuses. */
  totalConcurrentCopies: 32,
  /** EXTENDED COPY commands running at once from one I_T nexus. */
  maxConcurrentCopies: 8,
  /** Copy statuses (LIST ID USAGE 00b) held per I_T nexus; the oldest completed one goes first. */
  heldStatusesPerNexus: 16,
});

/** SPC-4 6.4.5 table 131 / 6.4.6 table 139: the descriptor type codes this copy manager implements. */
export enum DescriptorType {
  BLOCK_TO_BLOCK = 0x02,
  IDENTIFICATION = 0xe4,
}

/** SPC-4 table 127: LIST ID USAGE. */
export enum ListIdUsage { HOLD = 0b00, RESERVED = 0b01, NO_HOLD = 0b10, NO_LIST_ID = 0b11 }

const HEADER_BYTES = 16;
const TARGET_DESCRIPTOR_BYTES = 32;
/** Block-to-block segment descriptor: DESCRIPTOR LENGTH 0018h (28 bytes in all). */
const B2B_DESCRIPTOR_LENGTH = 0x18;
/** SPC-4 7.8.6.1 table 459: designator type NAA, association logical unit, code set binary. */
const DESIGNATOR_NAA = 0x3;
const DESIGNATOR_MAX_BYTES = 20;

export interface TargetDescriptor {
  /** Offset of the descriptor in the parameter list (field pointers). */
  offset: number;
  peripheralType: number;
  codeSet: number;
  association: number;
  designatorType: number;
  designator: Buffer;
  diskBlockLength: number;
}

export interface BlockSegment {
  offset: number;
  /** DC: NUMBER OF BLOCKS counts destination blocks (else source blocks). */
  dc: boolean;
  cat: boolean;
  source: number;
  destination: number;
  blocks: number;
  sourceLba: bigint;
  destinationLba: bigint;
}

export interface CopyParameterList {
  listId: number;
  listIdUsage: ListIdUsage;
  str: boolean;
  priority: number;
  targets: TargetDescriptor[];
  segments: BlockSegment[];
}

export type ParseResult = { ok: true; list: CopyParameterList | undefined } | { ok: false; outcome: Outcome };

const fail = (outcome: Outcome): ParseResult => ({ ok: false, outcome });
const at = (cond: SenseCondition, byte: number): Outcome => check(cond, { fieldPointer: { cd: false, byte } });

/**
 * SPC-4 6.4.3 EXTENDED COPY (LID1) parameter list: header, target descriptors, segment
 * descriptors. Checks run in the order below so that each error names its cause: list lengths
 * against the data and the advertised maxima first, then descriptor counts, then descriptor
 * types and fields. Reserved fields are not checked (initiators leave them uninitialized). An
 * empty list (PARAMETER LIST LENGTH 0) is not an error and copies nothing.
 */
export function parseCopyParameterList(d: Uint8Array): ParseResult {
  if (d.length === 0) return { ok: true, list: undefined };
  const L = COPY_MANAGER_LIMITS;
  if (d.length < HEADER_BYTES) return fail(check(SENSE.PARAMETER_LIST_LENGTH_ERROR));
  const b = Buffer.from(d.buffer, d.byteOffset, d.length);
  const listId = b[0]; // byte 0 LIST IDENTIFIER
  const str = (b[1] & 0x20) !== 0; // byte 1 bit 5 STR: a striping hint, nothing to do for disks
  const listIdUsage = ((b[1] >> 3) & 0x3) as ListIdUsage; // byte 1 bits 4..3 LIST ID USAGE
  const priority = b[1] & 0x7; // byte 1 bits 2..0 PRIORITY: one queue, so it orders nothing
  if (listIdUsage === ListIdUsage.RESERVED) return fail(invalidParamField(1, 4));
  // SPC-4 table 127: LIST ID USAGE 11b requires a LIST IDENTIFIER of zero.
  if (listIdUsage === ListIdUsage.NO_LIST_ID && listId !== 0) return fail(invalidParamField(0));
  const targetListLength = b.readUInt16BE(2); // bytes 2..3 CSCD (TARGET) DESCRIPTOR LIST LENGTH
  const segmentListLength = b.readUInt32BE(8); // bytes 8..11 SEGMENT DESCRIPTOR LIST LENGTH
  const inlineDataLength = b.readUInt32BE(12); // bytes 12..15 INLINE DATA LENGTH
  if (inlineDataLength > L.maxInlineDataLength) return fail(at(SENSE.INLINE_DATA_LENGTH_EXCEEDED, 12));
  // SPC-4 6.4.3.1: descriptor lists longer than MAXIMUM DESCRIPTOR LIST LENGTH, or longer than the
  // parameter list that carries them, are PARAMETER LIST LENGTH ERROR.
  if (targetListLength + segmentListLength > L.maxDescriptorListLength) return fail(check(SENSE.PARAMETER_LIST_LENGTH_ERROR));
  if (HEADER_BYTES + targetListLength + segmentListLength + inlineDataLength > d.length) {
    return fail(check(SENSE.PARAMETER_LIST_LENGTH_ERROR));
  }
  // Every target descriptor type implemented here is 32 bytes long.
  if (targetListLength % TARGET_DESCRIPTOR_BYTES !== 0) return fail(invalidParamField(2));
  const targetCount = targetListLength / TARGET_DESCRIPTOR_BYTES;
  // SPC-4 6.4.3.4: more target descriptors than allowed is TOO MANY TARGET DESCRIPTORS.
  if (targetCount > L.maxTargetDescriptors) return fail(check(SENSE.TOO_MANY_TARGET_DESCRIPTORS));
  // Segment descriptors vary in length: walk them by DESCRIPTOR LENGTH to count them.
  const segStart = HEADER_BYTES + targetListLength;
  const segEnd = segStart + segmentListLength;
  const segOffsets: number[] = [];
  for (let off = segStart; off < segEnd;) {
    if (off + 4 > segEnd) return fail(check(SENSE.PARAMETER_LIST_LENGTH_ERROR));
    segOffsets.push(off);
    if (segOffsets.length > L.maxSegmentDescriptors) return fail(check(SENSE.TOO_MANY_SEGMENT_DESCRIPTORS));
    off += 4 + b.readUInt16BE(off + 2);
    if (off > segEnd) return fail(check(SENSE.PARAMETER_LIST_LENGTH_ERROR));
  }
  const targets: TargetDescriptor[] = [];
  for (let i = 0; i < targetCount; i++) {
    const off = HEADER_BYTES + i * TARGET_DESCRIPTOR_BYTES;
    // SPC-4 6.4.5 table 131: DESCRIPTOR TYPE CODE; only the identification descriptor is offered.
    if (b[off] !== DescriptorType.IDENTIFICATION) return fail(at(SENSE.UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE, off));
    // byte 1: LU ID TYPE (7..6) is ignored for identification descriptors and NUL (5) is obsolete
    // in SPC-4; PERIPHERAL DEVICE TYPE (4..0) says which device type specific parameters follow.
    const peripheralType = b[off + 1] & 0x1f;
    if (peripheralType !== PeripheralType.DISK) return fail(invalidParamField(off + 1, 4));
    // bytes 2..3 RELATIVE INITIATOR PORT IDENTIFIER: the copy manager reaches units directly, not
    // through an initiator port, so any value is accepted.
    // bytes 4..23: a designation descriptor (SPC-4 7.8.6.1) naming the copy target.
    const designatorLength = b[off + 7];
    if (designatorLength > DESIGNATOR_MAX_BYTES) return fail(invalidParamField(off + 7));
    targets.push({
      offset: off,
      peripheralType,
      codeSet: b[off + 4] & 0x0f,
      association: (b[off + 5] >> 4) & 0x3,
      designatorType: b[off + 5] & 0x0f,
      designator: Buffer.from(b.subarray(off + 8, off + 8 + designatorLength)),
      // bytes 28..31 (SPC-4 6.4.5.2, block device type specific parameters): PAD (28 bit 2) only
      // matters for stream segments; bytes 29..31 DISK BLOCK LENGTH.
      diskBlockLength: (b[off + 29] << 16) | (b[off + 30] << 8) | b[off + 31],
    });
  }
  const segments: BlockSegment[] = [];
  for (const off of segOffsets) {
    // SPC-4 6.4.6 table 139: only block device to block device (02h) is offered.
    if (b[off] !== DescriptorType.BLOCK_TO_BLOCK) return fail(at(SENSE.UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE, off));
    if (b.readUInt16BE(off + 2) !== B2B_DESCRIPTOR_LENGTH) return fail(invalidParamField(off + 2));
    segments.push({
      offset: off,
      dc: (b[off + 1] & 0x02) !== 0, // byte 1 bit 1 DC
      cat: (b[off + 1] & 0x01) !== 0, // byte 1 bit 0 CAT
      source: b.readUInt16BE(off + 4), // bytes 4..5 SOURCE CSCD DESCRIPTOR INDEX
      destination: b.readUInt16BE(off + 6), // bytes 6..7 DESTINATION CSCD DESCRIPTOR INDEX
      blocks: b.readUInt16BE(off + 10), // bytes 10..11 BLOCK DEVICE NUMBER OF BLOCKS
      sourceLba: b.readBigUInt64BE(off + 12), // bytes 12..19 SOURCE BLOCK DEVICE LOGICAL BLOCK ADDRESS
      destinationLba: b.readBigUInt64BE(off + 20), // bytes 20..27 DESTINATION BLOCK DEVICE LOGICAL BLOCK ADDRESS
    });
  }
  return { ok: true, list: { listId, listIdUsage, str, priority, targets, segments } };
}

// --- copy status ------------------------------------------------------------------------------

/** SPC-4 6.18.3 table 281: COPY MANAGER STATUS. */
export enum CopyManagerStatus { IN_PROGRESS = 0x00, COMPLETED = 0x01, COMPLETED_WITH_ERRORS = 0x02 }

interface CopyRecord {
  status: CopyManagerStatus;
  segmentsProcessed: number;
  bytes: bigint;
  held: boolean;
}

/** One copy manager's state: its running copies and the statuses it holds, by I_T nexus and list. */
class CopyManagerState {
  running = 0;
  readonly runningPerNexus = new Map<string, number>();
  /** I_T nexus key → LIST IDENTIFIER → record (insertion order = age). */
  readonly records = new Map<string, Map<number, CopyRecord>>();

  recordsOf(nexus: string): Map<number, CopyRecord> {
    let m = this.records.get(nexus);
    if (!m) this.records.set(nexus, (m = new Map()));
    return m;
  }
}

const managers = new WeakMap<LuView, CopyManagerState>();

function managerOf(lu: LuView): CopyManagerState {
  let m = managers.get(lu);
  if (!m) managers.set(lu, (m = new CopyManagerState()));
  return m;
}

/** The I_T nexus as SPC-4 names it: initiator port and target port. */
function nexusKey(n: NexusView): string { return `${n.initiatorPort}\u0000${n.targetPort}`; }

// --- EXTENDED COPY ----------------------------------------------------------------------------

/** A segment that failed: the outcome the command ends with (the copy status counts the segments before it). */
function resolveTarget(ctx: ExecContext, t: TargetDescriptor): LuView | Outcome {
  const isNaa = t.designatorType === DESIGNATOR_NAA && t.association === 0 && t.designator.length >= 8;
  // SPC-4 6.4.5: a CSCD the copy manager cannot address is COPY ABORTED, UNREACHABLE COPY TARGET.
  if (!isNaa) return check(SENSE.UNREACHABLE_COPY_TARGET);
  const own = ctx.lu.identity.naa;
  const lu = own.equals(t.designator) ? ctx.lu : ctx.lu.copyTargets?.(t.designator);
  if (!lu) return check(SENSE.UNREACHABLE_COPY_TARGET);
  if (lu.type !== PeripheralType.DISK) return check(SENSE.INCORRECT_COPY_TARGET_DEVICE_TYPE);
  // DISK BLOCK LENGTH must describe the copy target; zero is not a block length.
  if (t.diskBlockLength !== lu.blockSize) return invalidParamField(t.offset + 29);
  return lu;
}

function unitReachable(lu: LuView): boolean {
  return lu.mediumPresent && !lu.stopped && !lu.sanitizing;
}

function unitReadOnly(ctx: ExecContext, lu: LuView): boolean {
  if (lu === ctx.lu) return ctx.readOnly;
  return lu.config.readOnly || lu.backstore.readOnly || lu.modes.softwareWriteProtect;
}

interface LockRequest { lu: LuView; lba: bigint; blocks: bigint; exclusive: boolean }

/**
 * Locks for one segment: shared on the source range, exclusive on the destination. On one
 * backstore with overlapping ranges, one exclusive lock over both (a shared and an exclusive lock
 * of our own would wait on each other). Across backstores, locks are taken in unit-name order so
 * two copies in opposite directions cannot deadlock.
 */
async function lockSegment(src: LockRequest, dst: LockRequest): Promise<Unlock[]> {
  let reqs: LockRequest[];
  if (src.lu.backstore === dst.lu.backstore) {
    const sEnd = src.lba + src.blocks, dEnd = dst.lba + dst.blocks;
    if (src.lba < dEnd && dst.lba < sEnd) {
      const lba = src.lba < dst.lba ? src.lba : dst.lba;
      const end = sEnd > dEnd ? sEnd : dEnd;
      reqs = [{ lu: dst.lu, lba, blocks: end - lba, exclusive: true }];
    } else {
      reqs = src.lba < dst.lba ? [src, dst] : [dst, src];
    }
  } else {
    reqs = src.lu.name <= dst.lu.name ? [src, dst] : [dst, src];
  }
  const unlocks: Unlock[] = [];
  for (const r of reqs) unlocks.push(await rangeLockFor(r.lu.backstore).acquire(r.lba, r.blocks, r.exclusive));
  return unlocks;
}

/**
 * Copy `bytes` from `src` at `srcLba` to `dst` at `dstLba` in chunks; backward when it must be.
 * A backstore failure is the sense of its errno for the phase that failed (DESIGN.md §4 rule 5).
 */
async function copyBytes(src: LuView, srcLba: bigint, dst: LuView, dstLba: bigint, bytes: number): Promise<Outcome | undefined> {
  const srcBase = byteOffset(src, srcLba);
  const dstBase = byteOffset(dst, dstLba);
  // A forward copy onto an overlapping later range of the same store would read what it wrote.
  const backward = src.backstore === dst.backstore && dstBase > srcBase && dstBase < srcBase + bytes;
  const buf = Buffer.allocUnsafe(Math.min(bytes, IO_CHUNK_BYTES));
  const chunks = Math.ceil(bytes / IO_CHUNK_BYTES);
  for (let k = 0; k < chunks; k++) {
    const i = backward ? chunks - 1 - k : k;
    const pos = i * IO_CHUNK_BYTES;
    const n = Math.min(IO_CHUNK_BYTES, bytes - pos);
    const piece = buf.subarray(0, n);
    let phase: IoDirection = 'read';
    try {
      await src.backstore.read(srcBase + pos, piece);
      phase = 'write';
      await dst.backstore.write(dstBase + pos, piece, false);
    } catch (e) {
      return senseFromErrno(e, phase);
    }
  }
  return undefined;
}

/**
 * SPC-4 6.4.6.5: one block device to block device segment. Returns the bytes it copied, or the
 * outcome that ends the copy at this segment.
 */
async function runSegment(ctx: ExecContext, targets: readonly LuView[], s: BlockSegment): Promise<number | Outcome> {
  const src = targets[s.source];
  const dst = targets[s.destination];
  // A segment naming a CSCD descriptor the list does not have cannot reach its copy target.
  if (!src || !dst) return check(SENSE.UNREACHABLE_COPY_TARGET);
  if (!unitReachable(src) || !unitReachable(dst)) return check(SENSE.COPY_TARGET_DEVICE_NOT_REACHABLE);
  if (unitReadOnly(ctx, dst)) return check(SENSE.WRITE_PROTECTED);
  const bytes = s.blocks * (s.dc ? dst.blockSize : src.blockSize);
  // Whole blocks on both sides; a residue would need CAT handling (held or padded data), not offered.
  if (bytes % src.blockSize !== 0 || bytes % dst.blockSize !== 0) {
    return at(SENSE.UNEXPECTED_INEXACT_SEGMENT, s.offset + 10);
  }
  const srcBlocks = BigInt(bytes / src.blockSize);
  const dstBlocks = BigInt(bytes / dst.blockSize);
  // A range past either unit's capacity fails the copy there (libiscsi ValidSegDescr): COPY
  // ABORTED with the first LBA out of range in INFORMATION.
  if (s.sourceLba + srcBlocks > src.blocks) return check(SENSE.COPY_ABORTED, { information: s.sourceLba });
  if (s.destinationLba + dstBlocks > dst.blocks) return check(SENSE.COPY_ABORTED, { information: s.destinationLba });
  // SPC-4 6.4.6.5: NUMBER OF BLOCKS zero moves nothing and is not an error.
  if (bytes === 0) return 0;
  const unlocks = await lockSegment(
    { lu: src, lba: s.sourceLba, blocks: srcBlocks, exclusive: false },
    { lu: dst, lba: s.destinationLba, blocks: dstBlocks, exclusive: true },
  );
  try {
    return await copyBytes(src, s.sourceLba, dst, s.destinationLba, bytes) ?? bytes;
  } finally {
    for (const u of unlocks.reverse()) u();
  }
}

export async function execExtendedCopy(ctx: ExecContext<{ parameterListLength: number }>): Promise<Outcome> {
  const parsed = parseCopyParameterList(ctx.dataOut ?? new Uint8Array(0));
  if (!parsed.ok) return parsed.outcome;
  const list = parsed.list;
  if (!list) return GOOD;
  const mgr = managerOf(ctx.lu);
  const key = nexusKey(ctx.nexus);
  const records = mgr.recordsOf(key);
  const tracked = list.listIdUsage !== ListIdUsage.NO_LIST_ID;
  // SPC-4 6.4.3.2: a LIST IDENTIFIER in use by a running command from the same I_T nexus is
  // OPERATION IN PROGRESS.
  if (tracked && records.get(list.listId)?.status === CopyManagerStatus.IN_PROGRESS) {
    return check(SENSE.OPERATION_IN_PROGRESS);
  }
  const nexusRunning = mgr.runningPerNexus.get(key) ?? 0;
  if (mgr.running >= COPY_MANAGER_LIMITS.totalConcurrentCopies || nexusRunning >= COPY_MANAGER_LIMITS.maxConcurrentCopies) {
    return check(SENSE.INSUFFICIENT_RESOURCES);
  }
  const targets: LuView[] = [];
  for (const t of list.targets) {
    const r = resolveTarget(ctx as ExecContext, t);
    if ('status' in r) return r;
    targets.push(r);
  }
  const rec: CopyRecord = { status: CopyManagerStatus.IN_PROGRESS, segmentsProcessed: 0, bytes: 0n, held: list.listIdUsage === ListIdUsage.HOLD };
  if (tracked) {
    records.delete(list.listId); // a new command with this LIST IDENTIFIER replaces the held status
    records.set(list.listId, rec);
    trimHeld(records);
  }
  mgr.running++;
  mgr.runningPerNexus.set(key, nexusRunning + 1);
  try {
    for (const s of list.segments) {
      const r = await runSegment(ctx as ExecContext, targets, s);
      if (typeof r !== 'number') {
        rec.status = CopyManagerStatus.COMPLETED_WITH_ERRORS;
        // SPC-4 6.4.4: COMMAND-SPECIFIC INFORMATION names the segment descriptor being processed.
        return { ...r, sense: { ...r.sense!, commandSpecific: BigInt(rec.segmentsProcessed) } };
      }
      rec.bytes += BigInt(r);
      rec.segmentsProcessed++;
    }
    rec.status = CopyManagerStatus.COMPLETED;
    return GOOD;
  } finally {
    mgr.running--;
    const left = (mgr.runningPerNexus.get(key) ?? 1) - 1;
    if (left > 0) mgr.runningPerNexus.set(key, left); else mgr.runningPerNexus.delete(key);
    if (tracked && !rec.held && records.get(list.listId) === rec) records.delete(list.listId);
  }
}

/** Keep at most `heldStatusesPerNexus` records, dropping the oldest completed ones. */
function trimHeld(records: Map<number, CopyRecord>): void {
  for (const [id, r] of records) {
    if (records.size <= COPY_MANAGER_LIMITS.heldStatusesPerNexus) return;
    if (r.status !== CopyManagerStatus.IN_PROGRESS) records.delete(id);
  }
}

// --- RECEIVE COPY RESULTS ---------------------------------------------------------------------

/** SPC-4 6.18.3 table 282: TRANSFER COUNT UNITS, the smallest power of 1024 that fits 32 bits. */
function transferCount(bytes: bigint): [units: number, count: number] {
  let units = 0;
  let v = bytes;
  while (v > 0xffffffffn) { v >>= 10n; units++; }
  return [units, Number(v)];
}

/** SPC-4 6.18.3 table 280: COPY STATUS parameter data (12 bytes). */
export function buildCopyStatus(status: CopyManagerStatus, segmentsProcessed: number, bytes: bigint): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(8, 0); // bytes 0..3 AVAILABLE DATA (n - 3)
  b[4] = status & 0x7f; // byte 4: HDD (bit 7) 0: no held data was discarded; COPY MANAGER STATUS
  b.writeUInt16BE(Math.min(segmentsProcessed, 0xffff), 5); // bytes 5..6 SEGMENTS PROCESSED
  const [units, count] = transferCount(bytes);
  b[7] = units; // byte 7 TRANSFER COUNT UNITS
  b.writeUInt32BE(count, 8); // bytes 8..11 TRANSFER COUNT
  return b;
}

export function execReceiveCopyStatus(ctx: ExecContext<{ listIdentifier: number; allocationLength: number }>): Outcome {
  const records = managers.get(ctx.lu)?.records.get(nexusKey(ctx.nexus));
  const rec = records?.get(ctx.f.listIdentifier);
  // SPC-4 6.18.3: no EXTENDED COPY with this LIST IDENTIFIER from this I_T nexus is known.
  if (!records || !rec) return invalidFieldOf(ctx.def, 'listIdentifier');
  // Once a completed command's status has been reported, the copy manager lets it go.
  if (rec.status !== CopyManagerStatus.IN_PROGRESS) records.delete(ctx.f.listIdentifier);
  return good(buildCopyStatus(rec.status, rec.segmentsProcessed, rec.bytes));
}

/** SPC-4 6.18.5 table 285: OPERATING PARAMETERS parameter data for this copy manager. */
export function buildOperatingParameters(lu: LuView): Buffer {
  const L = COPY_MANAGER_LIMITS;
  const codes = [DescriptorType.BLOCK_TO_BLOCK, DescriptorType.IDENTIFICATION];
  const b = Buffer.alloc(44 + codes.length);
  b.writeUInt32BE(b.length - 4, 0); // bytes 0..3 AVAILABLE DATA (n - 3)
  b[4] = 0x01; // byte 4 bit 0 SNLID: LIST ID USAGE 11b (no list identifier) is supported
  b.writeUInt16BE(L.maxTargetDescriptors, 8); // bytes 8..9 MAXIMUM CSCD DESCRIPTOR COUNT
  b.writeUInt16BE(L.maxSegmentDescriptors, 10); // bytes 10..11 MAXIMUM SEGMENT DESCRIPTOR COUNT
  b.writeUInt32BE(L.maxDescriptorListLength, 12); // bytes 12..15 MAXIMUM DESCRIPTOR LIST LENGTH
  b.writeUInt32BE(L.maxSegmentLengthBytes, 16); // bytes 16..19 MAXIMUM SEGMENT LENGTH
  b.writeUInt32BE(L.maxInlineDataLength, 20); // bytes 20..23 MAXIMUM INLINE DATA LENGTH
  b.writeUInt32BE(L.heldDataLimit, 24); // bytes 24..27 HELD DATA LIMIT
  b.writeUInt32BE(0, 28); // bytes 28..31 MAXIMUM STREAM DEVICE TRANSFER SIZE: no stream devices
  b.writeUInt16BE(L.totalConcurrentCopies, 34); // bytes 34..35 TOTAL CONCURRENT COPIES
  b[36] = L.maxConcurrentCopies; // byte 36 MAXIMUM CONCURRENT COPIES
  b[37] = Math.log2(lu.blockSize); // byte 37 DATA SEGMENT GRANULARITY (log2 bytes): whole blocks
  b[38] = 0; // byte 38 INLINE DATA GRANULARITY
  b[39] = 0; // byte 39 HELD DATA GRANULARITY
  b[43] = codes.length; // byte 43 IMPLEMENTED DESCRIPTOR LIST LENGTH
  codes.forEach((c, i) => { b[44 + i] = c; }); // bytes 44.. implemented descriptor type codes
  return b;
}

export function execReceiveOperatingParameters(ctx: ExecContext): Outcome {
  return good(buildOperatingParameters(ctx.lu));
}

export const xcopyBindings: Binding[] = [
  bind(D.EXTENDED_COPY_LID1, execExtendedCopy),
  bind(D.RECEIVE_COPY_STATUS, execReceiveCopyStatus),
  bind(D.RECEIVE_COPY_OPERATING_PARAMETERS, execReceiveOperatingParameters),
];
