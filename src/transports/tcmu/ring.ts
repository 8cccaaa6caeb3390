// The user-space side of a TCMU command ring (linux/target_core_user.h "Ring Design"; layout in
// spec.ts), over the uio device's mapping or, in tests, over the simulator's ArrayBuffer.
//
// Reading: the kernel appends entries at mailbox.cmd_head; `readNew()` parses every entry from
// where the last call stopped up to the head, copying out what a later completion may overwrite
// (the CDB, the iovecs). Completing: user space owns mailbox.cmd_tail. A completion is written
// into the first unreleased command entry at the tail — with CAP_OOOC that may be another
// command's entry, its cmd_id replaced, which is how LIO takes completions out of order — and the
// tail moves past it and past any PAD or TMR entries before the next command entry.
//
// Nothing read from the mapping is trusted: a head, length or offset that would take a read or a
// write outside the ring, the data area or the entry is a RingFault value (the device is then
// failed, DESIGN.md §8), and the views themselves are bounded by the mapping.
import {
  Entry, Mailbox, TCMU_MAILBOX_VERSION, TCMU_OP_ALIGN_SIZE, TCMU_OP_MASK, TCMU_SENSE_BUFFERSIZE,
  TcmuMailboxFlag, TcmuOp, TcmuUflag,
} from './spec';
import type { TcmuTmr } from './spec';

/** Why the ring cannot be served (the device is failed with it). */
export interface RingFault {
  readonly fault: string;
}

export interface Iovec {
  /** Offset of the bytes in the mapping (in the data area). */
  readonly offset: number;
  readonly length: number;
}

export interface CmdEntry {
  readonly kind: TcmuOp.CMD;
  readonly cmdId: number;
  /** A copy: the entry's bytes may be overwritten by another command's completion. */
  readonly cdb: Uint8Array;
  /** Data-Out or Data-In buffers, in order (iov_cnt of them). */
  readonly iovs: readonly Iovec[];
  /** Sum of the iovecs' lengths: the command's data length as LIO's core set it. */
  readonly dataLength: number;
  /** iov_bidi_cnt: buffers of a bidirectional command's Data-In after the Data-Out ones. */
  readonly bidiIovs: readonly Iovec[];
}

export interface TmrEntry {
  readonly kind: TcmuOp.TMR;
  readonly tmrType: TcmuTmr;
  /** Commands in the ring the task management function aborted. */
  readonly cmdIds: readonly number[];
}

export type RingEntry = CmdEntry | TmrEntry;

/** What user space returns for one command. */
export interface RingCompletion {
  readonly cmdId: number;
  /** SAM-5 status byte. */
  readonly status: number;
  /** Sense bytes (at most 96 are carried). */
  readonly sense?: Uint8Array;
  /** Bytes of Data-In actually returned when fewer than the buffer (needs CAP_READ_LEN). */
  readonly readLength?: number;
}

/** A parsed entry still between the tail and the read position. */
interface Slot {
  readonly offset: number;
  readonly length: number;
  readonly op: TcmuOp;
}

export function isRingFault(v: unknown): v is RingFault {
  return typeof v === 'object' && v !== null && typeof (v as RingFault).fault === 'string';
}

/**
 * The kernel's scsi_command_size(): the CDB length LIO copied into the entry (group code table,
 * VARIABLE LENGTH CDB 7Fh from its ADDITIONAL CDB LENGTH).
 */
export function scsiCommandSize(opcode: number, byte7: number): number {
  if (opcode === 0x7f) return byte7 + 8;
  return [6, 10, 10, 12, 16, 12, 10, 10][opcode >> 5];
}

export class TcmuRing {
  readonly flags: number;
  readonly cmdrOff: number;
  readonly cmdrSize: number;
  /** Start of the data area in the mapping. */
  readonly dataOff: number;
  private readonly dv: DataView;
  private readonly bytes: Uint8Array;
  /** Where the next readNew() starts (ring offset). */
  private cursor: number;
  /** mailbox.cmd_tail as last written (ring offset). */
  private tail: number;
  /** Parsed entries not yet released, from the tail to the cursor. */
  private slots: Slot[] = [];
  private slotsHead = 0;
  /** Command ids read and not yet completed. */
  private readonly open = new Set<number>();

  private constructor(map: ArrayBuffer, flags: number, cmdrOff: number, cmdrSize: number, tail: number) {
    this.dv = new DataView(map);
    this.bytes = new Uint8Array(map);
    this.flags = flags;
    this.cmdrOff = cmdrOff;
    this.cmdrSize = cmdrSize;
    this.dataOff = cmdrOff + cmdrSize;
    this.cursor = tail;
    this.tail = tail;
  }

  /**
   * The ring of a mapping whose mailbox the kernel initialised (version 2, the ring inside the
   * map). Reading resumes at cmd_tail: entries a previous process read but did not complete are
   * read again (a restart; the kernel keeps them in flight until they are completed).
   */
  static attach(map: ArrayBuffer): TcmuRing | RingFault {
    if (map.byteLength < Mailbox.SIZE) return { fault: `mapping of ${map.byteLength} bytes has no room for the mailbox` };
    const dv = new DataView(map);
    const version = dv.getUint16(Mailbox.VERSION, true);
    if (version !== TCMU_MAILBOX_VERSION) return { fault: `mailbox version ${version}, expected ${TCMU_MAILBOX_VERSION}` };
    const cmdrOff = dv.getUint32(Mailbox.CMDR_OFF, true);
    const cmdrSize = dv.getUint32(Mailbox.CMDR_SIZE, true);
    if (cmdrOff < Mailbox.SIZE || cmdrSize < Entry.CMD_MIN_SIZE || cmdrSize % TCMU_OP_ALIGN_SIZE !== 0 ||
        cmdrOff + cmdrSize > map.byteLength) {
      return { fault: `command ring at ${cmdrOff} of ${cmdrSize} bytes does not fit the ${map.byteLength}-byte mapping` };
    }
    const tail = dv.getUint32(Mailbox.CMD_TAIL, true);
    if (tail >= cmdrSize || tail % TCMU_OP_ALIGN_SIZE !== 0) return { fault: `cmd_tail ${tail} outside the ring or unaligned` };
    return new TcmuRing(map, dv.getUint16(Mailbox.FLAGS, true), cmdrOff, cmdrSize, tail);
  }

  has(flag: TcmuMailboxFlag): boolean { return (this.flags & flag) !== 0; }

  /** Commands read and not yet completed. */
  get openCommands(): number { return this.open.size; }

  /** mailbox.cmd_head, as the kernel last wrote it. */
  get head(): number { return this.dv.getUint32(Mailbox.CMD_HEAD, true); }

  /** mailbox.cmd_tail as this side last wrote it. */
  get tailOffset(): number { return this.tail; }

  isOpen(cmdId: number): boolean { return this.open.has(cmdId); }

  /** Every entry the kernel added since the last call, or the fault that stops the ring. */
  readNew(): RingEntry[] | RingFault {
    const head = this.head;
    if (head >= this.cmdrSize || head % TCMU_OP_ALIGN_SIZE !== 0) return { fault: `cmd_head ${head} outside the ring or unaligned` };
    const out: RingEntry[] = [];
    while (this.cursor !== head) {
      const at = this.cursor;
      const left = (head - at + this.cmdrSize) % this.cmdrSize;
      const base = this.cmdrOff + at;
      const lenOp = this.dv.getUint32(base + Entry.LEN_OP, true);
      const op = lenOp & TCMU_OP_MASK;
      const length = lenOp - op;
      if (length < Entry.HDR_SIZE || length > left || at + length > this.cmdrSize) {
        return { fault: `entry at ${at}: length ${length} (op ${op}) overruns the ring (head ${head})` };
      }
      let entry: RingEntry | RingFault | undefined;
      switch (op) {
        case TcmuOp.PAD:
          // The kernel pads only to the ring's end (ring_insert_padding), so the next entry is at 0.
          if (at + length !== this.cmdrSize) entry = { fault: `PAD at ${at} of ${length} bytes does not end the ring` };
          break;
        case TcmuOp.CMD: entry = this.readCmd(at, length); break;
        case TcmuOp.TMR: entry = this.readTmr(at, length); break;
        default: entry = { fault: `entry at ${at} has unknown op ${op}` };
      }
      if (entry !== undefined && isRingFault(entry)) return entry;
      if (entry !== undefined) out.push(entry);
      this.slots.push({ offset: at, length, op });
      this.cursor = (at + length) % this.cmdrSize;
    }
    return out;
  }

  private readCmd(at: number, length: number): CmdEntry | RingFault {
    const base = this.cmdrOff + at;
    if (length < Entry.CMD_MIN_SIZE) return { fault: `CMD at ${at}: ${length} bytes, less than a struct tcmu_cmd_entry` };
    const cmdId = this.dv.getUint16(base + Entry.CMD_ID, true);
    if (cmdId === 0 || this.open.has(cmdId)) return { fault: `CMD at ${at}: cmd_id ${cmdId} is ${cmdId === 0 ? 'zero' : 'already in flight'}` };
    const iovCnt = this.dv.getUint32(base + Entry.REQ_IOV_CNT, true);
    const bidiCnt = this.dv.getUint32(base + Entry.REQ_IOV_BIDI_CNT, true);
    const iovEnd = Entry.REQ_IOV + (iovCnt + bidiCnt) * Entry.IOVEC_SIZE;
    if (iovCnt + bidiCnt > length || iovEnd > length) return { fault: `CMD ${cmdId}: ${iovCnt}+${bidiCnt} iovecs do not fit its ${length}-byte entry` };
    const cdbOff = this.dv.getBigUint64(base + Entry.REQ_CDB_OFF, true);
    if (cdbOff < BigInt(base + iovEnd) || cdbOff >= BigInt(base + length)) {
      return { fault: `CMD ${cmdId}: cdb_off ${cdbOff} is not inside its entry` };
    }
    const cdbAt = Number(cdbOff);
    const cdbLength = scsiCommandSize(this.bytes[cdbAt], cdbAt + 7 < base + length ? this.bytes[cdbAt + 7] : 0);
    if (cdbAt + cdbLength > base + length) return { fault: `CMD ${cmdId}: its ${cdbLength}-byte CDB overruns the entry` };
    const iovs: Iovec[] = [];
    const bidiIovs: Iovec[] = [];
    let dataLength = 0;
    for (let i = 0; i < iovCnt + bidiCnt; i++) {
      const p = base + Entry.REQ_IOV + i * Entry.IOVEC_SIZE;
      const off = this.dv.getBigUint64(p, true);
      const len = this.dv.getBigUint64(p + 8, true);
      if (off < BigInt(this.dataOff) || off + len > BigInt(this.bytes.byteLength)) {
        return { fault: `CMD ${cmdId}: iovec ${i} (${off}+${len}) is outside the data area` };
      }
      const v = { offset: Number(off), length: Number(len) };
      if (i < iovCnt) {
        iovs.push(v);
        dataLength += v.length;
      } else {
        bidiIovs.push(v);
      }
    }
    this.open.add(cmdId);
    return { kind: TcmuOp.CMD, cmdId, cdb: this.bytes.slice(cdbAt, cdbAt + cdbLength), iovs, dataLength, bidiIovs };
  }

  private readTmr(at: number, length: number): TmrEntry | RingFault {
    const base = this.cmdrOff + at;
    if (length < Entry.TMR_MIN_SIZE) return { fault: `TMR at ${at}: ${length} bytes, less than a struct tcmu_tmr_entry` };
    const count = this.dv.getUint32(base + Entry.TMR_CMD_CNT, true);
    if (count > (length - Entry.TMR_CMD_IDS) / 2) return { fault: `TMR at ${at}: ${count} command ids do not fit its ${length} bytes` };
    const cmdIds: number[] = [];
    for (let i = 0; i < count; i++) cmdIds.push(this.dv.getUint16(base + Entry.TMR_CMD_IDS + 2 * i, true));
    return { kind: TcmuOp.TMR, tmrType: this.bytes[base + Entry.TMR_TYPE] as TcmuTmr, cmdIds };
  }

  /**
   * Data-Out of a command as one view: the data area itself when the kernel gave one buffer
   * (no copy), else the buffers copied into one.
   */
  gather(iovs: readonly Iovec[], length: number): Uint8Array {
    if (iovs.length === 1) return this.bytes.subarray(iovs[0].offset, iovs[0].offset + Math.min(length, iovs[0].length));
    const out = new Uint8Array(length);
    let n = 0;
    for (const v of iovs) {
      if (n >= length) break;
      const take = Math.min(v.length, length - n);
      out.set(this.bytes.subarray(v.offset, v.offset + take), n);
      n += take;
    }
    return out;
  }

  /**
   * Copies Data-In into a command's buffers; the rest of the buffers is zeroed, so that a short
   * read never hands the initiator what an earlier command left in the data area.
   */
  scatter(iovs: readonly Iovec[], data: Uint8Array | undefined): void {
    let n = 0;
    for (const v of iovs) {
      const take = data === undefined ? 0 : Math.max(0, Math.min(v.length, data.length - n));
      if (take > 0) this.bytes.set(data!.subarray(n, n + take), v.offset);
      if (take < v.length) this.bytes.fill(0, v.offset + take, v.offset + v.length);
      n += take;
    }
  }

  /**
   * The command entry the next completion goes into, after releasing any PAD and TMR entries at
   * the tail; undefined when no parsed command entry is left.
   */
  private nextCommandSlot(): Slot | undefined {
    while (this.slotsHead < this.slots.length) {
      const s = this.slots[this.slotsHead];
      if (s.op === TcmuOp.CMD) return s;
      this.release();
    }
    return undefined;
  }

  private release(): void {
    const s = this.slots[this.slotsHead++];
    this.tail = (s.offset + s.length) % this.cmdrSize;
    if (this.slotsHead > 64 && this.slotsHead * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.slotsHead);
      this.slotsHead = 0;
    }
  }

  /** The id of the command whose own entry is at the tail (in-order completion without CAP_OOOC). */
  commandAtTail(): number | undefined {
    const s = this.nextCommandSlot();
    return s === undefined ? undefined : this.dv.getUint16(this.cmdrOff + s.offset + Entry.CMD_ID, true);
  }

  /**
   * Writes a completion at the tail (tcmu_handle_completion reads it there) and moves the tail past
   * it; false when `c.cmdId` is not an open command. The tail reaches the kernel at the next kick.
   */
  complete(c: RingCompletion): boolean {
    if (!this.open.has(c.cmdId)) return false;
    const s = this.nextCommandSlot();
    if (s === undefined) return false;
    const base = this.cmdrOff + s.offset;
    let uflags = 0;
    if (c.readLength !== undefined && c.readLength > 0 && this.has(TcmuMailboxFlag.CAP_READ_LEN)) uflags |= TcmuUflag.READ_LEN;
    // The response overlays the request: clear what the kernel reads back (status to sense).
    this.bytes.fill(0, base + Entry.RSP_SCSI_STATUS, base + Entry.RSP_SENSE + TCMU_SENSE_BUFFERSIZE);
    this.dv.setUint16(base + Entry.CMD_ID, c.cmdId, true);
    this.bytes[base + Entry.KFLAGS] = 0;
    this.bytes[base + Entry.UFLAGS] = uflags;
    this.bytes[base + Entry.RSP_SCSI_STATUS] = c.status;
    if (uflags & TcmuUflag.READ_LEN) this.dv.setUint32(base + Entry.RSP_READ_LEN, c.readLength!, true);
    if (c.sense !== undefined) {
      this.bytes.set(c.sense.subarray(0, TCMU_SENSE_BUFFERSIZE), base + Entry.RSP_SENSE);
    }
    this.open.delete(c.cmdId);
    this.release();
    // Release the PAD and TMR entries behind it too, so the kernel gets their space back now.
    this.nextCommandSlot();
    this.publishTail();
    return true;
  }

  /** Releases parsed PAD and TMR entries at the tail; true when the tail moved. */
  releaseNonCommands(): boolean {
    const before = this.tail;
    this.nextCommandSlot();
    if (this.tail === before) return false;
    this.publishTail();
    return true;
  }

  private publishTail(): void {
    this.dv.setUint32(Mailbox.CMD_TAIL, this.tail, true);
  }
}
