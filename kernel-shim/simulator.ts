// The kernel's side of a TCMU device (drivers/target/target_core_user.c), played over an ordinary
// ArrayBuffer so that the user-space side (src/transports/tcmu/) is tested in milliseconds
// without a kernel. It writes and reads the ring byte for byte as the kernel does, from its own
// reading of linux/target_core_user.h (it shares no constant with the code under test):
//
// - queue_cmd_ring: data blocks of `blockSize` taken lowest-free first (so buffers fragment as
//   the kernel's do), contiguous blocks merged into one iovec; the entry sized
//   max(offsetof(req.iov[n]), sizeof(struct tcmu_cmd_entry)) + the CDB rounded up to 8; a PAD to
//   the ring's end when the entry does not fit before it; one byte of the ring kept free; cmd_id
//   the lowest free id from 1 (idr_alloc). A command that finds no room in the ring or the data
//   area waits in the qfull queue, and so does every later one while that queue is not empty.
// - tcmu_irqcontrol (the user's 4-byte write): entries from the last cleaned position to
//   cmd_tail reaped, PAD and TMR skipped, CMD looked up by cmd_id (not found: the ring is broken),
//   UNKNOWN_OP, READ_LEN and CHECK CONDITION sense handled as tcmu_handle_completion does;
//   then the TMR queue and the qfull queue run again.
// - tcmu_tmr_notify: aborted commands still queued are completed TASK ABORTED at once; those in
//   the ring are listed in a TMR entry (tmr_notification=1) and still wait for user space.
// - reset_ring (configfs action): every command in the ring completed BUSY (level 1) or CHECK
//   CONDITION (level 2), head and tail set to 0, the qfull queue run.
// - uio_event_notify: the device's "interrupt", delivered on a later turn of the event loop
//   (several notifications before the user reads coalesce into one, as uio's event count does).

/** struct tcmu_mailbox: version at 0, flags at 2, cmdr_off at 4, cmdr_size at 8, cmd_head at 12, cmd_tail at 64. */
const MB_SIZE = 128;
const MB_VERSION = 0;
const MB_FLAGS = 2;
const MB_CMDR_OFF = 4;
const MB_CMDR_SIZE = 8;
const MB_CMD_HEAD = 12;
const MB_CMD_TAIL = 64;
/** sizeof(struct tcmu_cmd_entry): header 8 + the response (8 + 96 bytes of sense). */
const CMD_ENTRY_SIZE = 112;
/** offsetof(struct tcmu_cmd_entry, req.iov). */
const REQ_IOV = 48;
const SENSE_SIZE = 96;

export const OP_PAD = 0;
export const OP_CMD = 1;
export const OP_TMR = 2;
export const FLAG_OOOC = 1;
export const FLAG_READ_LEN = 2;
export const FLAG_TMR = 4;
export const UFLAG_UNKNOWN_OP = 1;
export const UFLAG_READ_LEN = 2;

/** SAM-5 status bytes the kernel itself completes with. */
const CHECK_CONDITION = 0x02;
const BUSY = 0x08;
const TASK_ABORTED = 0x40;

export interface SimOptions {
  /** Command ring bytes (the kernel's is 8 MiB - 128); a multiple of 8. */
  cmdrSize?: number;
  /** Data area blocks (max_data_area_mb in blocks). */
  dataBlocks?: number;
  /** DATA_BLOCK_SIZE (PAGE_SIZE). */
  blockSize?: number;
  /** Mailbox flags the kernel offers. */
  flags?: number;
  /** The configfs attribute tmr_notification. */
  tmrNotification?: boolean;
  /** Where head and tail start (a ring that has run before); default 0. */
  start?: number;
}

export type SimDirection = 'none' | 'in' | 'out';

export interface SimCommand {
  cdb: Uint8Array | number[];
  dir?: SimDirection;
  /** se_cmd->data_length: the bytes the command moves. */
  length?: number;
  /** The initiator's Data-Out (dir 'out'). */
  dataOut?: Uint8Array;
}

/** What LIO's core got back for a command. */
export interface SimResult {
  status: number;
  /** The sense buffer as the kernel copied it (96 bytes), when the status is CHECK CONDITION with sense. */
  sense?: Uint8Array;
  /** Data-In as gathered (read_len bytes when READ_LEN was valid, else the whole buffer). */
  data: Uint8Array;
  /** Set when READ_LEN was valid: the length the core completes with. */
  readLength?: number;
  /** UNKNOWN_OP was set. */
  unknownOp: boolean;
  /** The core aborted the command (task management): the initiator gets no status for it. */
  aborted: boolean;
  /** Completed by the kernel itself (qfull abort, reset_ring, broken ring), not from the ring. */
  byKernel: boolean;
}

export class SimTask {
  cmdId = 0;
  blocks: number[] = [];
  aborted = false;
  result: Promise<SimResult>;
  settle!: (r: SimResult) => void;
  done = false;
  constructor(readonly cmd: Required<Pick<SimCommand, 'dir' | 'length'>> & { cdb: Uint8Array; dataOut?: Uint8Array }) {
    this.result = new Promise(resolve => { this.settle = resolve; });
  }
}

interface QueuedTmr { type: number; ids: number[] }

export class TcmuKernelSim {
  readonly map: ArrayBuffer;
  readonly cmdrOff = MB_SIZE;
  readonly cmdrSize: number;
  readonly dataOff: number;
  readonly blockSize: number;
  readonly dataBlocks: number;
  /** The uio interrupt: set by the test to the user side's event handler. */
  onInterrupt: (() => void) | undefined;
  interrupts = 0;
  irqcontrols = 0;
  broken = false;
  brokenReason = '';
  private readonly dv: DataView;
  private readonly bytes: Uint8Array;
  private readonly used: boolean[];
  private readonly commands = new Map<number, SimTask>();
  private readonly qfull: SimTask[] = [];
  private readonly tmrQueue: QueuedTmr[] = [];
  private lastCleaned: number;
  private interruptPending = false;
  private readonly tmrNotification: boolean;

  constructor(opts: SimOptions = {}) {
    this.cmdrSize = opts.cmdrSize ?? 64 * 1024;
    this.blockSize = opts.blockSize ?? 4096;
    this.dataBlocks = opts.dataBlocks ?? 64;
    this.tmrNotification = opts.tmrNotification ?? true;
    this.dataOff = MB_SIZE + this.cmdrSize;
    this.map = new ArrayBuffer(this.dataOff + this.dataBlocks * this.blockSize);
    this.dv = new DataView(this.map);
    this.bytes = new Uint8Array(this.map);
    this.used = new Array<boolean>(this.dataBlocks).fill(false);
    // tcmu_configure_device: the mailbox.
    this.dv.setUint16(MB_VERSION, 2, true);
    this.dv.setUint16(MB_FLAGS, opts.flags ?? (FLAG_OOOC | FLAG_READ_LEN | FLAG_TMR), true);
    this.dv.setUint32(MB_CMDR_OFF, MB_SIZE, true);
    this.dv.setUint32(MB_CMDR_SIZE, this.cmdrSize, true);
    const start = opts.start ?? 0;
    this.dv.setUint32(MB_CMD_HEAD, start, true);
    this.dv.setUint32(MB_CMD_TAIL, start, true);
    this.lastCleaned = start;
  }

  get head(): number { return this.dv.getUint32(MB_CMD_HEAD, true); }
  get tail(): number { return this.dv.getUint32(MB_CMD_TAIL, true); }
  get inRing(): number { return this.commands.size; }
  get queued(): number { return this.qfull.length; }
  get tmrsQueued(): number { return this.tmrQueue.length; }
  get blocksInUse(): number { return this.used.filter(Boolean).length; }
  /** The ring id of every command in the ring. */
  ids(): number[] { return [...this.commands.keys()]; }

  /** LIO's core hands the device a command (tcmu_queue_cmd). */
  submit(c: SimCommand): SimTask {
    const cdb = c.cdb instanceof Uint8Array ? c.cdb : Uint8Array.from(c.cdb);
    const t = new SimTask({ cdb, dir: c.dir ?? 'none', length: c.length ?? c.dataOut?.length ?? 0, dataOut: c.dataOut });
    if (this.broken) {
      this.kernelComplete(t, CHECK_CONDITION);
    } else if (this.qfull.length > 0 || !this.queueCmdRing(t)) {
      this.qfull.push(t);
    }
    return t;
  }

  private static commandSize(cdb: Uint8Array): number {
    return cdb[0] === 0x7f ? cdb[7] + 8 : [6, 10, 10, 12, 16, 12, 10, 10][cdb[0] >> 5];
  }

  private spcFree(head: number): number {
    const used = head >= this.lastCleaned ? head - this.lastCleaned : this.cmdrSize + head - this.lastCleaned;
    return this.cmdrSize - used - 1;
  }

  /** is_ring_space_avail: room for the entry, plus a PAD when it does not fit before the end. */
  private ringSpace(size: number): boolean {
    const head = this.head % this.cmdrSize;
    const toEnd = this.cmdrSize - head;
    const needed = toEnd >= size ? size : size + toEnd;
    return this.spcFree(head) >= needed;
  }

  /** ring_insert_padding. */
  private insertPadding(size: number): number {
    let head = this.head % this.cmdrSize;
    const toEnd = this.cmdrSize - head;
    if (toEnd < size) {
      const at = this.cmdrOff + head;
      this.dv.setUint32(at, toEnd | OP_PAD, true);
      this.dv.setUint16(at + 4, 0, true);
      this.bytes[at + 6] = 0;
      this.bytes[at + 7] = 0;
      this.dv.setUint32(MB_CMD_HEAD, 0, true);
      head = 0;
    }
    return head;
  }

  /** queue_cmd_ring: true when the command is in the ring, false when it must wait. */
  private queueCmdRing(t: SimTask): boolean {
    const blocksNeeded = Math.ceil(t.cmd.length / this.blockSize);
    if (blocksNeeded > this.dataBlocks) {
      // TCM_INVALID_CDB_FIELD: the request is larger than the whole data area.
      this.kernelComplete(t, CHECK_CONDITION);
      return true;
    }
    const free: number[] = [];
    for (let i = 0; i < this.dataBlocks && free.length < blocksNeeded; i++) if (!this.used[i]) free.push(i);
    if (free.length < blocksNeeded) return false;
    // new_block_to_iov: a block right after the previous one extends its iovec.
    const runs: { first: number; count: number }[] = [];
    for (const b of free) {
      const last = runs[runs.length - 1];
      if (last && last.first + last.count === b) last.count++;
      else runs.push({ first: b, count: 1 });
    }
    const base = Math.max(REQ_IOV + runs.length * 16, CMD_ENTRY_SIZE);
    const cdbLength = TcmuKernelSim.commandSize(t.cmd.cdb);
    const size = base + Math.ceil(cdbLength / 8) * 8;
    if (size > this.cmdrSize / 2) {
      this.kernelComplete(t, CHECK_CONDITION);
      return true;
    }
    if (!this.ringSpace(size)) return false;
    let id = 1;
    while (this.commands.has(id)) id++;
    if (id >= 0xffff) return false;
    for (const b of free) this.used[b] = true;
    t.blocks = free;
    t.cmdId = id;
    this.commands.set(id, t);
    const head = this.insertPadding(size);
    const at = this.cmdrOff + head;
    this.bytes.fill(0, at, at + size);
    this.dv.setUint32(at, size | OP_CMD, true);
    this.dv.setUint16(at + 4, id, true);
    // req.iov_cnt at 8, iov_bidi_cnt at 12, iov_dif_cnt at 16, cdb_off at 24, iov[] at 48.
    this.dv.setUint32(at + 8, runs.length, true);
    let left = t.cmd.length;
    runs.forEach((r, i) => {
      const len = Math.min(left, r.count * this.blockSize);
      this.dv.setBigUint64(at + REQ_IOV + i * 16, BigInt(this.dataOff + r.first * this.blockSize), true);
      this.dv.setBigUint64(at + REQ_IOV + i * 16 + 8, BigInt(len), true);
      left -= len;
    });
    if (t.cmd.dir === 'out' && t.cmd.dataOut) this.scatter(t, t.cmd.dataOut);
    const cdbOff = this.cmdrOff + head + base;
    this.bytes.set(t.cmd.cdb.subarray(0, cdbLength), cdbOff);
    this.dv.setBigUint64(at + 24, BigInt(cdbOff), true);
    this.dv.setUint32(MB_CMD_HEAD, (head + size) % this.cmdrSize, true);
    this.notify();
    return true;
  }

  private blockOffsets(t: SimTask): number[] { return t.blocks.map(b => this.dataOff + b * this.blockSize); }

  private scatter(t: SimTask, data: Uint8Array): void {
    let n = 0;
    for (const off of this.blockOffsets(t)) {
      const take = Math.min(this.blockSize, data.length - n);
      if (take <= 0) break;
      this.bytes.set(data.subarray(n, n + take), off);
      n += take;
    }
  }

  private gather(t: SimTask, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let n = 0;
    for (const off of this.blockOffsets(t)) {
      const take = Math.min(this.blockSize, length - n);
      if (take <= 0) break;
      out.set(this.bytes.subarray(off, off + take), n);
      n += take;
    }
    return out;
  }

  private freeBlocks(t: SimTask): void {
    for (const b of t.blocks) this.used[b] = false;
    t.blocks = [];
  }

  private kernelComplete(t: SimTask, status: number): void {
    if (t.done) return;
    t.done = true;
    t.settle({ status, data: new Uint8Array(0), unknownOp: false, aborted: t.aborted, byKernel: true });
  }

  private notify(): void {
    this.interrupts++;
    if (this.interruptPending) return;
    this.interruptPending = true;
    setImmediate(() => {
      this.interruptPending = false;
      this.onInterrupt?.();
    });
  }

  /** The user's 4-byte write to the uio device (tcmu_irqcontrol). */
  irqcontrol(): void {
    this.irqcontrols++;
    if (this.handleCompletions()) {
      this.runTmrQueue();
      this.runQfull();
    }
  }

  /** tcmu_handle_completions; true when ring space was freed. */
  private handleCompletions(): boolean {
    if (this.broken) return false;
    let freed = false;
    const tail = this.tail;
    while (this.lastCleaned !== tail) {
      if (tail >= this.cmdrSize || tail % 8 !== 0) return this.breakRing(`cmd_tail ${tail} is not an entry boundary`);
      const at = this.cmdrOff + this.lastCleaned;
      const lenOp = this.dv.getUint32(at, true);
      const op = lenOp & 7;
      const len = lenOp & ~7;
      if (len === 0) return this.breakRing(`zero-length entry at ${this.lastCleaned}`);
      freed = true;
      if (op === OP_PAD || op === OP_TMR) {
        this.lastCleaned = (this.lastCleaned + len) % this.cmdrSize;
        continue;
      }
      const id = this.dv.getUint16(at + 4, true);
      const t = this.commands.get(id);
      if (!t) return this.breakRing(`cmd_id ${id} not found, ring is broken`);
      this.commands.delete(id);
      this.handleCompletion(t, at);
      this.lastCleaned = (this.lastCleaned + len) % this.cmdrSize;
    }
    return freed;
  }

  private breakRing(reason: string): false {
    this.broken = true;
    this.brokenReason = reason;
    return false;
  }

  /** tcmu_handle_completion over the entry at `at` (rsp: status at 8, read_len at 12, sense at 16). */
  private handleCompletion(t: SimTask, at: number): void {
    const uflags = this.bytes[at + 7];
    const status = this.bytes[at + 8];
    const base = { unknownOp: false, aborted: t.aborted, byKernel: false };
    let r: SimResult;
    if (uflags & UFLAG_UNKNOWN_OP) {
      r = { ...base, status: CHECK_CONDITION, data: new Uint8Array(0), unknownOp: true };
    } else {
      let readLength = t.cmd.length;
      let readLenValid = false;
      const rl = this.dv.getUint32(at + 12, true);
      if (t.cmd.dir === 'in' && (uflags & UFLAG_READ_LEN) && rl !== 0) {
        readLenValid = true;
        if (rl < readLength) readLength = rl;
      }
      const sense = status === CHECK_CONDITION ? this.bytes.slice(at + 16, at + 16 + SENSE_SIZE) : undefined;
      const data = t.cmd.dir === 'in' && (status !== CHECK_CONDITION || readLenValid) ? this.gather(t, readLength) : new Uint8Array(0);
      r = { ...base, status, sense, data, readLength: readLenValid ? readLength : undefined };
    }
    this.freeBlocks(t);
    t.done = true;
    t.settle(r);
  }

  /** run_qfull_queue: waiting commands go in, in order, until one does not fit. */
  private runQfull(): void {
    while (this.qfull.length > 0) {
      const t = this.qfull[0];
      if (!this.queueCmdRing(t)) return;
      this.qfull.shift();
    }
  }

  /**
   * LIO's core ran a task management function (tcmu_tmr_notify) that aborted `tasks` (type as
   * tcmu_tmr_entry.tmr_type: 1 ABORT TASK, 5 LUN RESET, ...).
   */
  tmr(type: number, tasks: SimTask[]): void {
    const ids: number[] = [];
    for (const t of tasks) {
      if (t.done) continue;
      t.aborted = true;
      if (t.cmdId !== 0) {
        ids.push(t.cmdId);
        continue;
      }
      const i = this.qfull.indexOf(t);
      if (i >= 0) this.qfull.splice(i, 1);
      this.kernelComplete(t, TASK_ABORTED);
    }
    if (!this.tmrNotification) return;
    this.queueTmrRing({ type, ids });
  }

  /** queue_tmr_ring: false when it waits in the TMR queue for ring space. */
  private queueTmrRing(tmr: QueuedTmr): boolean {
    if (this.broken) return true;
    const size = Math.ceil((32 + 2 * tmr.ids.length) / 8) * 8;
    if (this.tmrQueue.length > 0 && this.tmrQueue[0] !== tmr) {
      this.tmrQueue.push(tmr);
      return false;
    }
    if (!this.ringSpace(size)) {
      if (this.tmrQueue[0] !== tmr) this.tmrQueue.push(tmr);
      return false;
    }
    const head = this.insertPadding(size);
    const at = this.cmdrOff + head;
    this.bytes.fill(0, at, at + size);
    this.dv.setUint32(at, size | OP_TMR, true);
    // tmr_type at 8, cmd_cnt at 12, cmd_ids[] at 32.
    this.bytes[at + 8] = tmr.type;
    this.dv.setUint32(at + 12, tmr.ids.length, true);
    tmr.ids.forEach((id, i) => this.dv.setUint16(at + 32 + 2 * i, id, true));
    this.dv.setUint32(MB_CMD_HEAD, (head + size) % this.cmdrSize, true);
    this.notify();
    return true;
  }

  private runTmrQueue(): void {
    while (this.tmrQueue.length > 0) {
      if (!this.queueTmrRing(this.tmrQueue[0])) return;
      this.tmrQueue.shift();
    }
  }

  /** configfs action/reset_ring (tcmu_reset_ring): 1 completes the ring's commands BUSY, 2 CHECK CONDITION. */
  resetRing(level: 1 | 2): void {
    for (const t of this.commands.values()) {
      this.freeBlocks(t);
      this.kernelComplete(t, level === 1 ? BUSY : CHECK_CONDITION);
    }
    this.commands.clear();
    this.lastCleaned = 0;
    this.dv.setUint32(MB_CMD_TAIL, 0, true);
    this.dv.setUint32(MB_CMD_HEAD, 0, true);
    this.broken = false;
    this.brokenReason = '';
    this.tmrQueue.length = 0;
    this.runQfull();
  }

  /** Writes raw bytes into the mapping (a test corrupting the ring as a faulty kernel would). */
  poke(offset: number, bytes: number[]): void { this.bytes.set(bytes, offset); }

  /** Sets cmd_head as a faulty kernel might, and interrupts. */
  setHead(head: number): void {
    this.dv.setUint32(MB_CMD_HEAD, head, true);
    this.notify();
  }

}
