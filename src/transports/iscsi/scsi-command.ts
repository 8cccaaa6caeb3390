// RFC 7143 11.3 / 11.7 / 11.8 / 3.2.4.2: SCSI Command, SCSI Data-Out and R2T. A command becomes
// a task of this connection's task table; its Data-Out is collected into one pooled buffer
// (immediate data, unsolicited Data-Out, then R2T-solicited sequences) while the command already
// waits at the engine's arrival stage, outside the task set until its data is in; the engine's
// completion goes to the Data-In / SCSI Response sender.
import { BLOCK_LIMITS } from '../../engine/vpd';
import type { CommandRequest, Completion, CompletionCallback } from '../../engine/command';
import { Status, TaskAttr } from '../../engine/spec/status';
import { ResidualKind } from '../../engine/command';
import type { DataOut, ScsiCommand } from './initiator-pdu';
import { R2TFields, encodeR2T } from './target-pdu';
import { IscsiOp, RejectReason } from './spec';
import { bhsBufferOffset, bhsDataSN, bhsExpectedDataTransferLength, bhsItt, bhsOpcode, bhsScsiWrite, bhsTtt } from './bhs';
import { immediateDataViolation, DataOutBufferPool, DataOutCollector, DataOutErrorKind } from './data-out';
import type { R2tRequest } from './r2t';
import type { PhaseContext } from './phase-context';
import { BufferBudget } from './buffer-budget';
import { nowNs } from '../../engine/lu-statistics';
import { dataPathStatistics } from '../../engine/statistics-switch';

/** What this module uses of the full feature phase, and where its completions go (data-in.ts). */
export type ScsiCommandContext = Pick<PhaseContext,
  'allocTtt' | 'finishedCommand' | 'host' | 'log' | 'out' | 'params' | 'protocolError' | 'reject' | 'remote' | 'session' | 'stampSeq'> & {
  readonly dataIn: { complete(task: Task, c: Completion): void };
};
import { transportDefault } from './settings';

/** Where a task's Data-Out stands. */
export enum DataState {
  /** No Data-Out, or all of it has arrived. */
  COMPLETE = 'complete',
  COLLECTING = 'collecting',
  /** A sequence error or an abort ended the transfer; the engine gets no data. */
  FAILED = 'failed',
}

/** RFC 7143 11.3.6: the CDB field of the BHS. */
const CDB_BYTES = 16;
/** Completed tasks kept for reuse per connection. */
const TASK_POOL_MAX = 256;
const EMPTY = Buffer.alloc(0);

/**
 * The most Data-Out one command may bring: the engine's Block Limits MAXIMUM TRANSFER LENGTH
 * (what VPD B0h advertises). A write announcing more is not solicited and no buffer is reserved
 * for it: its Data-Out fails at once, so a 48-byte PDU cannot make the target reserve 4 GiB.
 */
export const MAX_DATA_OUT_BYTES = BLOCK_LIMITS.maxTransferBytes;

/**
 * One SCSI command of this connection. Tasks are reused once the engine has completed them
 * (DESIGN.md §10: nothing allocated per command on the hot path): each carries its engine request,
 * its completion callback and its Data-Out hook, made once when the task object is created.
 */
export class Task {
  itt = 0;
  lun = 0;
  attr: TaskAttr = TaskAttr.SIMPLE;
  expectedLength = 0;
  /** Copied: the PDU's own bytes may alias a socket chunk, which the task must not keep alive. */
  cdb: Buffer;
  cmdSN = 0;
  immediate = false;
  /** The collector of this task's current write, if its Data-Out is collected. */
  collector: DataOutCollector | undefined = undefined;
  /** Made for the first write this task object serves, restarted for every later one. */
  private ownCollector: DataOutCollector | undefined = undefined;
  /** The Data-Out as the engine gets it (a view of `dataBuf`), once it has all arrived. */
  dataOut: Buffer | undefined = undefined;
  /** The connection's pool buffer holding the Data-Out, given back when the engine completes. */
  dataBuf: Buffer | undefined = undefined;
  data = DataState.COMPLETE;
  /** Handed to the engine (in CmdSN order); until then the task lives only here. */
  submitted = false;
  /** The engine's request for the Data-Out, parked until the transfer ends. */
  dataCb: ((data: Uint8Array | undefined) => void) | undefined = undefined;
  /** Aborted on the wire (task management, logout, connection loss): no response is sent. */
  aborted = false;
  /** When Data-Out for this task last arrived (performance.now() ms), for the Data-Out timeout. */
  dataAt = 0;
  /** Refused by this session's resource limits: answered with this status, never executed. */
  refused: Status.TASK_SET_FULL | Status.BUSY | undefined = undefined;
  /** Bytes of the session's Data-Out budget this write holds until the engine completes it. */
  dataOutHeld = 0;
  /** Bytes of the session's Data-In budget this read holds until its Data-In has been written. */
  dataInHeld = 0;
  /** RFC 7143 11.3.1: the W and R bits. */
  write = false;
  read = false;
  /** When the command arrived (nowNs()), for the session's latency statistics. */
  arrivedNs = 0;
  /** Owned copy of a 16-byte CDB, reused with the task. */
  private readonly cdb16 = Buffer.allocUnsafe(CDB_BYTES);
  readonly req: CommandRequest;
  readonly done: CompletionCallback;
  readonly later: (cb: (data: Uint8Array | undefined) => void) => void;

  constructor(path: ScsiCommandPath) {
    this.cdb = this.cdb16;
    this.req = { lun: 0, cdb: this.cdb16, tag: 0, attr: TaskAttr.SIMPLE, expectedLength: 0, dataOut: undefined, dataOutLater: undefined };
    this.done = (c) => path.taskDone(this, c);
    this.later = (cb) => path.dataWanted(this, cb);
  }

  /** This task object's collector, ready for a new write. */
  collectorFor(allocTtt: () => number): DataOutCollector {
    return (this.ownCollector ??= new DataOutCollector(allocTtt));
  }

  /** RFC 7143 11.3: the fields of a SCSI Command, its CDB copied out of the PDU. */
  init(p: ScsiCommand): void {
    this.itt = p.itt;
    this.lun = p.lun;
    this.attr = p.attr;
    this.expectedLength = p.expectedDataTransferLength;
    if (p.cdb.length === CDB_BYTES) {
      p.cdb.copy(this.cdb16, 0, 0, CDB_BYTES);
      this.cdb = this.cdb16;
    } else {
      this.cdb = Buffer.from(p.cdb);
    }
    this.cmdSN = p.cmdSN;
    this.immediate = p.immediate;
    this.collector = undefined;
    this.dataOut = undefined;
    this.dataBuf = undefined;
    this.data = DataState.COMPLETE;
    this.submitted = false;
    this.dataCb = undefined;
    this.aborted = false;
    this.refused = undefined;
    this.dataOutHeld = 0;
    this.dataInHeld = 0;
    this.write = p.write;
    this.read = p.read;
    this.arrivedNs = dataPathStatistics.enabled ? nowNs() : 0;
  }
}

/** The task table of a connection and the path of its commands' data toward the engine. */
export class ScsiCommandPath {
  /** RFC 7143 3.2.5: outstanding tasks by Initiator Task Tag. */
  readonly tasks = new Map<number, Task>();
  private readonly taskPool: Task[] = [];
  /** Data-Out buffers for reuse by later writes of this connection. */
  private readonly dataPool = new DataOutBufferPool();
  /** A write command's immediate data assembled in a pooled buffer, until the command claims it. */
  private landedImmediate: Buffer | undefined;
  private readonly r2tFields: R2TFields = {
    statSN: 0, expCmdSN: 0, maxCmdSN: 0, lun: 0, itt: 0, ttt: 0, r2tSN: 0, bufferOffset: 0, desiredDataTransferLength: 0,
  };
  private readonly submitBound = (t: Task): void => this.submit(t);
  /** Armed while a write of this connection collects Data-Out (dataOutTimeoutSec). */
  private dataTimer: NodeJS.Timeout | undefined = undefined;
  private readonly dataTimerBound = (): void => this.dataTimerFired();
  /** Data-Out buffers the writes of this session hold in transfer (maxDataOutMiBPerSession). */
  readonly dataOutBudget: BufferBudget;
  /** Data-In buffers the reads of this session hold until written (maxDataInMiBPerSession). */
  readonly dataInBudget: BufferBudget;
  /** Data-In reservations queued behind their Data-In in the output, released in write order. */
  private readonly dataInQueued: number[] = [];
  private readonly dataInWrittenBound = (): void => this.dataInBudget.release(this.dataInQueued.shift() ?? 0);

  constructor(private readonly ffp: ScsiCommandContext) {
    const s = ffp.host.ctx.settings;
    this.dataOutBudget = new BufferBudget(mib(s.maxDataOutMiBPerSession ?? transportDefault('maxDataOutMiBPerSession')));
    this.dataInBudget = new BufferBudget(mib(s.maxDataInMiBPerSession ?? transportDefault('maxDataInMiBPerSession')));
  }

  onCommand(p: ScsiCommand, header: Buffer): void {
    const ffp = this.ffp;
    ffp.out.coalescer.commandArrived();
    // The pooled buffer the immediate data was assembled in, if it was (landing()); a command
    // refused before it is claimed simply leaves it to the garbage collector.
    const landed = this.landedImmediate;
    this.landedImmediate = undefined;
    const s = ffp.session;
    if (s.id.type !== 'Normal' || !s.nexus) {
      // RFC 7143 4.3: a discovery session carries only Text, Logout and NOP.
      ffp.reject(RejectReason.PROTOCOL_ERROR, header);
      ffp.host.closeAfterFlush('SCSI command in a discovery session');
      return;
    }
    if (s.window.admit(p.cmdSN, p.immediate) === 'drop') {
      ffp.log.debug({ cmdSN: p.cmdSN, expCmdSN: s.window.expCmdSN }, 'SCSI command outside the CmdSN window, dropped');
      return;
    }
    if (this.tasks.has(p.itt)) {
      // RFC 7143 11.17.1: an ITT already in use.
      ffp.reject(RejectReason.TASK_IN_PROGRESS, header);
      if (!p.immediate) {
        s.window.skip(p.cmdSN);
        s.window.finished();
      }
      return;
    }
    const task = this.taskPool.pop() ?? new Task(this);
    task.init(p);
    let r2ts: R2tRequest[] | undefined;
    if (p.write && p.expectedDataTransferLength > MAX_DATA_OUT_BYTES) {
      ffp.log.warn({ remote: ffp.remote, itt: p.itt, edtl: p.expectedDataTransferLength }, 'write beyond the maximum transfer length; not solicited');
      task.data = DataState.FAILED;
    } else if ((task.refused = this.reserveBuffers(task, p)) !== undefined) {
      // SAM-5 5.3.1: no resources for this command from this I_T nexus now: a write is not
      // solicited, a read not executed; answered in CmdSN order.
      ffp.log.debug({ remote: ffp.remote, itt: p.itt, write: p.write }, 'buffer budget of the session spent; command refused');
    } else if (p.write && p.expectedDataTransferLength > 0) {
      const prm = ffp.params;
      const edtl = p.expectedDataTransferLength;
      // The task buffer: the one the immediate data was assembled in, else a pooled one.
      const inPlace = landed !== undefined && sameMemory(landed, p.data);
      const buf = inPlace ? landed : this.dataPool.take(edtl);
      if (p.final && p.data.length === edtl) {
        // RFC 7143 3.2.4.2: all of the Data-Out is immediate data (the common small write): no
        // collector, no R2T. The segment aliases the framer's chunk, valid only during feed(), while
        // the engine may use dataOut until it completes (a CmdSN gap or a busy store defers it), so
        // it is copied once into a pooled buffer rather than kept.
        const bad = immediateDataViolation(edtl, edtl, prm);
        if (bad !== undefined) return this.refuseProtocol(task, bad, header);
        if (!inPlace) p.data.copy(buf, 0);
        task.dataBuf = buf;
        task.dataOut = buf.length === edtl ? buf : buf.subarray(0, edtl);
      } else {
        const collector = task.collectorFor(ffp.allocTtt);
        const st = collector.restart(edtl, p.data, !p.final, prm, buf);
        if (!st.ok) return this.refuseProtocol(task, st.reason, header);
        task.collector = collector;
        task.dataBuf = buf;
        task.dataOut = collector.buffer;
        r2ts = st.r2ts;
        if (!collector.complete) {
          task.data = DataState.COLLECTING;
          task.dataAt = performance.now();
          this.armDataTimer();
        }
      }
    } else if (p.data.length > 0) {
      return this.refuseProtocol(task, 'data with no Expected Data Transfer Length', header);
    }
    this.tasks.set(p.itt, task);
    // RFC 7143 3.2.2.1: commands reach the engine in CmdSN order as soon as they are in order, their
    // Data-Out still in flight (the engine holds such a command out of its task set until the data
    // is in, so a silent initiator holds no one else's commands); R2Ts go out now,
    // so the transfers of several commands proceed together, including behind a CmdSN gap.
    if (r2ts) for (const r of r2ts) this.sendR2T(task, r);
    if (p.immediate) this.submit(task);
    else s.window.enqueue(p.cmdSN, true, this.submitBound, task);
  }

  /**
   * Framer hook: where a data segment that spans socket chunks is assembled. Data-Out lands in
   * its task's buffer; a write command's immediate data lands in the pooled buffer that becomes
   * the task's (onCommand claims it), so large immediate data is copied once, not twice.
   */
  landing(length: number, header: Buffer): Buffer {
    const op = bhsOpcode(header);
    if (op === IscsiOp.SCSI_COMMAND) {
      // RFC 7143 11.3.1: a write's immediate data, up to its Expected Data Transfer Length.
      // The buffer is taken before the command is checked, and a command refused afterwards
      // (CmdSN outside the window, ITT in use) must not have made the target allocate much more
      // than the bytes it sent: up to MaxBurstLength one is allocated if need be; beyond it
      // (libiscsi offers 256 KiB, so every 1 MiB write) only one the connection keeps is reused.
      // Otherwise each such write landed its immediate data in a buffer of its own and copied it
      // again: qemu-img 1 MiB writes spent a quarter of the thread in full garbage collections
      // that the new external memory (FirstBurstLength per command) forced every ~80 ms.
      const edtl = bhsExpectedDataTransferLength(header);
      if (bhsScsiWrite(header) && length <= edtl && edtl <= MAX_DATA_OUT_BYTES) {
        const buf = edtl <= this.ffp.params.maxBurstLength ? this.dataPool.take(edtl) : this.dataPool.takeKept(edtl);
        if (buf !== undefined) {
          this.landedImmediate = buf;
          return buf.subarray(0, length);
        }
      }
      return Buffer.allocUnsafe(length);
    }
    if (op === IscsiOp.SCSI_DATA_OUT) {
      const task = this.tasks.get(bhsItt(header));
      if (task?.collector && task.data === DataState.COLLECTING) {
        const at = task.collector.landing(bhsTtt(header), bhsDataSN(header), bhsBufferOffset(header), length);
        if (at) return at;
      }
    }
    return Buffer.allocUnsafe(length);
  }

  onDataOut(p: DataOut, header: Buffer): void {
    const ffp = this.ffp;
    const task = this.tasks.get(p.itt);
    if (!task || !task.collector || task.data !== DataState.COLLECTING) {
      // RFC 7143 11.5.1: data for a task already aborted (or failed) is discarded.
      ffp.log.debug({ itt: p.itt }, 'Data-Out for no collecting task, dropped');
      return;
    }
    const r = task.collector.accept(p);
    if (!r.ok && r.kind === DataOutErrorKind.PROTOCOL) return ffp.protocolError(r.reason, header);
    if (!r.ok) {
      // RFC 7143 11.7.5 / 7.1.4.1: a DataSN or Buffer Offset out of sequence. At ERL 0 there is no
      // recovery within the command: the command ends with CHECK CONDITION (ABORTED COMMAND, DATA
      // PHASE ERROR) and later Data-Out for it is discarded; the connection and the other tasks
      // carry on.
      ffp.log.warn({ remote: ffp.remote, itt: p.itt, reason: r.reason }, 'Data-Out sequence error; failing the command');
      this.endData(task, DataState.FAILED);
      return;
    }
    task.dataAt = performance.now();
    for (const x of r.r2ts) this.sendR2T(task, x);
    if (r.complete) this.endData(task, DataState.COMPLETE);
  }

  private dataTimeoutMs(): number {
    return (this.ffp.host.ctx.settings.dataOutTimeoutSec ?? transportDefault('dataOutTimeoutSec')) * 1000;
  }

  private armDataTimer(at = this.dataTimeoutMs()): void {
    if (this.dataTimer !== undefined) return;
    this.dataTimer = setTimeout(this.dataTimerBound, at);
    this.dataTimer.unref();
  }

  /**
   * A write has waited dataOutTimeoutSec for Data-Out with none arriving. At ERL 0 there is no
   * recovery within the connection (RFC 7143 7.1.4.1, 7.2): the connection is dropped, which
   * aborts its tasks (the engine ends the waiting write at its arrival stage, where it never held
   * the task set) and ends the session. Every other session carries on untouched.
   */
  private dataTimerFired(): void {
    this.dataTimer = undefined;
    const limit = this.dataTimeoutMs();
    const now = performance.now();
    let oldest = Infinity;
    for (const t of this.tasks.values()) {
      if (t.data !== DataState.COLLECTING) continue;
      if (now - t.dataAt >= limit) {
        const ffp = this.ffp;
        ffp.log.warn({ remote: ffp.remote, itt: t.itt, waitedMs: Math.round(now - t.dataAt) }, 'no Data-Out within dataOutTimeoutSec; dropping the connection');
        ffp.host.destroy('Data-Out timeout');
        return;
      }
      if (t.dataAt < oldest) oldest = t.dataAt;
    }
    if (oldest !== Infinity) this.armDataTimer(oldest + limit - now);
  }

  /** The transfer ended: hand the data (or its failure) to the engine if it is waiting. */
  private endData(task: Task, state: DataState.COMPLETE | DataState.FAILED): void {
    task.data = state;
    const cb = task.dataCb;
    task.dataCb = undefined;
    if (cb) cb(state === DataState.COMPLETE ? task.dataOut : undefined);
  }

  /** The engine's request for Data-Out: answered now if the transfer has ended, else parked. */
  dataWanted(task: Task, cb: (data: Uint8Array | undefined) => void): void {
    if (task.data === DataState.COLLECTING) task.dataCb = cb;
    else cb(task.data === DataState.COMPLETE ? task.dataOut : undefined);
  }

  /** A protocol error in the command itself: it never becomes a task, and holds nothing. */
  private refuseProtocol(task: Task, reason: string, header: Buffer): void {
    this.releaseHeld(task);
    this.ffp.protocolError(reason, header);
  }

  /**
   * Reserves the buffers the command will hold against its session's budget: a write's Data-Out
   * until the engine completes it, a read's Data-In until it has been written (an initiator that
   * stops reading its responses holds them until sendTimeoutSec). The refusal's status if over it.
   */
  private reserveBuffers(task: Task, p: ScsiCommand): Status.TASK_SET_FULL | Status.BUSY | undefined {
    const edtl = p.expectedDataTransferLength;
    if (edtl === 0) return undefined;
    const busy = this.tasks.size > 0;
    if (p.write) {
      const refused = this.dataOutBudget.reserve(edtl, busy);
      if (refused === undefined) task.dataOutHeld = edtl;
      return refused;
    }
    if (!p.read) return undefined;
    const refused = this.dataInBudget.reserve(edtl, busy);
    if (refused === undefined) task.dataInHeld = edtl;
    return refused;
  }

  private submit(task: Task): void {
    const s = this.ffp.session;
    if (!s.nexus || this.tasks.get(task.itt) !== task) return;
    task.submitted = true;
    if (task.refused !== undefined) {
      // Answered in CmdSN order like any command, without reaching the engine.
      this.taskDone(task, { status: task.refused, residualKind: ResidualKind.NONE, residual: 0 });
      return;
    }
    const complete = task.data === DataState.COMPLETE;
    const req = task.req;
    req.lun = task.lun;
    req.cdb = task.cdb;
    req.tag = task.itt;
    req.attr = task.attr;
    req.expectedLength = task.expectedLength;
    req.dataOut = complete ? task.dataOut : undefined;
    req.dataOutLater = complete ? undefined : task.later;
    s.nexus.execute(req, task.done);
  }

  /** The engine's completion of a submitted task (its `done`, bound once per task object). */
  taskDone(task: Task, c: Completion): void {
    const ffp = this.ffp;
    try {
      if (this.tasks.get(task.itt) === task) this.tasks.delete(task.itt);
      if (!c.aborted) this.count(task, c);
      ffp.finishedCommand(task.immediate);
      ffp.dataIn.complete(task, c);
    } catch (e) {
      ffp.host.fault(e);
    }
    // The engine is done with dataOut. The buffer is reused only if its transfer ended complete:
    // while a transfer is collecting (or failed mid-way) the framer may be assembling a Data-Out
    // segment in it across socket chunks (landing()), so such a buffer is left to the collector.
    this.releaseHeld(task);
    const buf = task.dataBuf;
    if (buf && task.data === DataState.COMPLETE) this.dataPool.give(buf);
    task.dataBuf = undefined;
    task.dataOut = undefined;
    // The engine is finished with the task and its request: the object can serve another command.
    if (this.taskPool.length < TASK_POOL_MAX && this.tasks.get(task.itt) !== task) {
      task.collector = undefined;
      task.dataCb = undefined;
      task.req.dataOut = undefined;
      task.req.dataOutLater = undefined;
      this.taskPool.push(task);
    }
    ffp.out.responseQueued();
  }

  /** The session's statistics of an answered command (nexus-statistics.ts). */
  private count(task: Task, c: Completion): void {
    if (!dataPathStatistics.enabled) return;
    const underflow = c.residualKind === ResidualKind.UNDERFLOW ? c.residual : 0;
    const readBytes = task.read && c.data !== undefined ? c.data.length : 0;
    const writeBytes = task.write ? Math.max(0, task.expectedLength - underflow) : 0;
    this.ffp.session.statistics.record(c.status, c.sense, readBytes, writeBytes, task.expectedLength, nowNs() - task.arrivedNs);
  }

  /**
   * The engine completed the task: its Data-Out buffer is free now; its Data-In buffer once the
   * Data-In queued for it has been written (or the connection is gone and nothing will be).
   */
  private releaseHeld(task: Task): void {
    this.dataOutBudget.release(task.dataOutHeld);
    task.dataOutHeld = 0;
    const n = task.dataInHeld;
    if (n === 0) return;
    task.dataInHeld = 0;
    const out = this.ffp.out;
    if (out.closed) {
      this.dataInBudget.release(n);
      return;
    }
    this.dataInQueued.push(n);
    out.releaseAfterWrite(this.dataInWrittenBound);
  }

  /** RFC 7143 11.8: an R2T soliciting one sequence of a task's Data-Out. */
  private sendR2T(task: Task, r: R2tRequest): void {
    const ffp = this.ffp;
    const bhs = ffp.out.bhs();
    // One fields object per connection, filled per R2T (nothing allocated per PDU).
    const f = this.r2tFields;
    ffp.stampSeq(f, false);
    f.lun = Math.max(0, task.lun);
    f.itt = task.itt;
    f.ttt = r.ttt;
    f.r2tSN = r.r2tSN;
    f.bufferOffset = r.bufferOffset;
    f.desiredDataTransferLength = r.desiredDataTransferLength;
    encodeR2T(bhs, 0, f);
    ffp.out.queue(bhs, EMPTY);
  }

  /** The task is aborted here: no response, and the engine's wait for its Data-Out ends. */
  abortOnWire(t: Task): void {
    t.aborted = true;
    if (t.data === DataState.COLLECTING) this.endData(t, DataState.FAILED);
  }

  /** Connection gone or session ended: every task goes, and no engine task waits for data. */
  abortAll(): Task[] {
    if (this.dataTimer !== undefined) clearTimeout(this.dataTimer);
    this.dataTimer = undefined;
    const all = [...this.tasks.values()];
    this.tasks.clear();
    for (const t of all) {
      t.aborted = true;
      // A task the engine never got has no completion to free its buffers at.
      if (!t.submitted) this.releaseHeld(t);
    }
    return all;
  }

  failData(tasks: Task[]): void {
    for (const t of tasks) if (t.data === DataState.COLLECTING) this.endData(t, DataState.FAILED);
  }

  /** Forget a task that never reached the engine. */
  dropTask(t: Task): void {
    this.tasks.delete(t.itt);
    this.releaseHeld(t);
    t.dataBuf = undefined;
    if (!t.immediate) {
      const w = this.ffp.session.window;
      if (w.has(t.cmdSN)) w.skip(t.cmdSN);
      w.finished();
    }
  }
}

function mib(n: number): number {
  return n * 1024 * 1024;
}

/** `view` starts at the first byte of `buf` (the immediate data was assembled in place). */
function sameMemory(buf: Buffer, view: Uint8Array): boolean {
  return view.length > 0 && view.buffer === buf.buffer && view.byteOffset === buf.byteOffset;
}
