import { SENSE } from './spec/asc';
import { Status, TaskAttr } from './spec/status';
import { AluaClass, CdbDef, Decoded, Dir, FieldMap, invalidFieldOf, ReadyClass } from './cdb/dsl';
import type { LogicalUnit } from './logical-unit';
import { check, Outcome, RESERVATION_CONFLICT } from './result';
import { buildSense, SenseFormat } from './sense';
import { CommandRequest, CompletionCallback, ResidualKind } from './command';
import { Exec, ExecContext, NexusView } from './types';
import { isOutcome } from './cdb/registry';
import { nowNs } from './lu-statistics';
import { Task, TaskState } from './task-set';
import { unmappedLunOutcome } from './core-commands';
import { reservationConflict } from './reserve';
import type { LunMap, Mapping } from './lun-map';
import { mediumNotPresent } from './medium';

/**
 * The one pipeline every command walks, in a fixed order (STYLE.md example 5):
 * LUN lookup and masking → decode → transfer length vs the transport's expected length →
 * unit attention → asymmetric access → reservations → write protection / readiness → task attribute → execute →
 * completion (sense bytes, Data-In trimming, residuals).
 */

/** SPC-4 4.2.5.1: opcodes C0h..FFh (groups 6 and 7) are vendor specific. */
const VENDOR_SPECIFIC_OPCODES = 0xc0;

export type Logger = { error(obj: object, msg: string): void };

/** The I_T nexus a command comes in on, with the LUN map its initiator sees. */
export interface PipelineNexus extends NexusView { readonly map: LunMap }

export function runPipeline(nexus: PipelineNexus, req: CommandRequest, done: CompletionCallback, log?: Logger): void {
  // 1. LUN lookup and masking
  const mapping = nexus.map.entries.get(req.lun);
  if (!mapping) {
    finish(undefined, req, unmappedLunOutcome(nexus, req), done, -1);
    return;
  }
  const lu = mapping.lu;
  // 2. decode against the device type's table (reserved bits, service actions)
  let def = lu.table.rowOf(req.cdb);
  let vendorExec: Exec | undefined;
  if (isOutcome(def)) {
    // SPC-4 4.2.5.1: a vendor-specific opcode, taken only where the device type makes a row for it.
    const op = req.cdb[0];
    const vendor = op >= VENDOR_SPECIFIC_OPCODES && !lu.table.hasOpcode(op) ? lu.device.vendorCommand : undefined;
    const dataOut = req.dataOut !== undefined || req.dataOutLater !== undefined;
    const v = vendor?.(lu, { cdb: req.cdb, expectedLength: req.expectedLength, dataOut });
    if (!v) { finish(mapping, req, def, done, -1); return; }
    def = v.def;
    vendorExec = v.exec;
  }
  // The task: its decoded fields, transfer length and read-only state, made once here and used
  // by every later step, the task set and the handler.
  const cmd = new Command(nexus, req, done, log, mapping, def, def.decode(req.cdb), vendorExec);
  // 3. transfer length from the CDB vs the initiator's expected length
  const xfer = cmd.xferBytes;
  let dataOut: Uint8Array | undefined;
  // A Data-Out length the command cannot run with is reported after the unit attention,
  // reservation and write-protection checks (step 6): a write to a write-protected unit is
  // WRITE PROTECTED whatever Data-Out came with it (libiscsi SCSI.ReadOnly).
  let lengthRefusal: Outcome | undefined;
  const later = def.dir === Dir.OUT && xfer > 0 && !req.dataOut ? req.dataOutLater : undefined;
  if (def.exactDataOut && req.expectedLength !== xfer) {
    const at = def.exactDataOut.field;
    lengthRefusal = at === undefined ? check(SENSE.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT) : invalidFieldOf(def, at);
  } else if (def.dir === Dir.OUT && xfer > 0) {
    const got = later ? req.expectedLength : req.dataOut?.length ?? 0;
    if (got < xfer && def.truncatableDataOut) {
      // FCP-4 9.4.2 a): the handler writes only the bytes that arrive (under its range lock).
      if (!later) dataOut = req.dataOut ?? new Uint8Array(0);
    } else if (got < xfer) {
      // SAM-5 5.3, FCP-4 9.4.2 b): the initiator announced less Data-Out than the CDB needs; the
      // command transfers nothing and ends with INVALID FIELD IN COMMAND INFORMATION UNIT, the
      // residual saying by how much it overflowed.
      lengthRefusal = check(SENSE.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
    } else if (!later) {
      dataOut = got === xfer ? req.dataOut : req.dataOut!.subarray(0, xfer);
    }
  }
  const itKey = nexus.itKey;
  // 4. unit attention (SPC-4 5.14): reported once, highest priority first
  if (!def.skipsUa) {
    const q = lu.ua.queue(itKey);
    const ua = q.take();
    if (ua) { finish(mapping, req, check(ua), done, xfer, def.dir); return; }
  }
  // 4a. asymmetric access (SPC-4 5.16.2.4): the state of the nexus's target port group decides,
  // by the row's class, whether the command runs (looked at only while some group refuses any).
  if (lu.access.gated) {
    const refused = lu.access.refusal(nexus.targetPortGroupId, def.alua ?? AluaClass.ACTIVE);
    if (refused) { finish(mapping, req, check(refused), done, xfer, def.dir); return; }
  }
  // 5. reservations
  if (reservationConflict(lu.reservation, lu.pr, itKey, def.resv)) {
    finish(mapping, req, RESERVATION_CONFLICT, done, xfer, def.dir);
    return;
  }
  // 6. readiness (the row's class: SPC-4 5.11, SBC-4 4.19, 4.11.2) and write protection
  const ready = def.ready ?? ReadyClass.MEDIUM;
  if (lu.sanitizing && ready < ReadyClass.SANITIZING) {
    // SBC-4 4.11.2: the sense data carries the sanitize's progress indication.
    finish(mapping, req, check(SENSE.SANITIZE_IN_PROGRESS, { progress: lu.sanitizeProgress }), done, xfer, def.dir);
    return;
  }
  if (!lu.mediumPresent && ready < ReadyClass.NO_MEDIUM) {
    finish(mapping, req, check(mediumNotPresent(lu)), done, xfer, def.dir);
    return;
  }
  if (lu.stopped && ready < ReadyClass.STOPPED) {
    finish(mapping, req, check(SENSE.LUN_NOT_READY_INITIALIZING_COMMAND_REQUIRED), done, xfer, def.dir);
    return;
  }
  if (def.writes && cmd.readOnly) {
    // SPC-4 7.5.8: a write refused because of the control page's SWP says so.
    const why = lu.modes.softwareWriteProtect && !mapping.readOnly ? SENSE.LUN_SOFTWARE_WRITE_PROTECTED : SENSE.WRITE_PROTECTED;
    finish(mapping, req, check(why), done, xfer, def.dir);
    return;
  }
  if (lengthRefusal) { finish(mapping, req, lengthRefusal, done, xfer, Dir.OUT); return; }
  cmd.dataOut = dataOut;
  // 7. task attribute: the task set decides when it runs. A command whose Data-Out is still in
  // transfer enters the task set only once its data is in (task-set.ts: Data-Out before the task
  // set), so an initiator that withholds data holds no other initiator's commands.
  cmd.started = nowNs();
  if (lu.tasks.size === 0) lu.statistics.busyAt(cmd.started);
  lu.tasks.arrive(cmd, later !== undefined);
  if (later) later(data => cmd.dataArrived(data));
}

/**
 * One command from the task set onwards: the task the task set schedules and the context its
 * handler executes with, in one object, so the hot path allocates nothing else per command
 * (DESIGN.md §10). A handler that completes synchronously is settled in the same call.
 */
class Command implements Task, ExecContext {
  readonly nexusId: number;
  readonly itKey: string;
  readonly tag: number;
  readonly lun: number;
  readonly cdb: Uint8Array;
  state = TaskState.WAITING;
  aborted = false;
  settled?: Array<() => void>;
  /** When the command entered the task set (nowNs()), for page 19h's processing time. */
  started = 0;
  readonly lu: LogicalUnit;
  /** Transfer length in bytes from the CDB (the row's xfer of its decoded fields). */
  readonly xferBytes: number;
  /** The mapping, the device, its store or the control page's SWP makes the unit read-only. */
  readonly readOnly: boolean;
  /** SAM-5 8.6: the row may make the command HEAD OF QUEUE whatever the initiator asked. */
  readonly attr: number;
  private readonly exec: Exec;
  /** Data-Out as the handler gets it (set by the pipeline's transfer-length step, or on arrival). */
  dataOut: Uint8Array | undefined = undefined;

  constructor(
    readonly nexus: NexusView,
    private readonly req: CommandRequest,
    private readonly done: CompletionCallback,
    private readonly log: Logger | undefined,
    private readonly mapping: Mapping,
    readonly def: CdbDef,
    readonly f: Decoded<FieldMap>,
    exec?: Exec,
  ) {
    const lu = mapping.lu;
    this.nexusId = nexus.id;
    this.itKey = nexus.itKey;
    this.tag = req.tag;
    this.lun = req.lun;
    this.cdb = req.cdb;
    this.lu = lu;
    this.xferBytes = def.xferBytes(f, lu.blockSize);
    this.readOnly = mapping.readOnly || lu.config.readOnly || lu.backstore.readOnly || lu.modes.softwareWriteProtect;
    this.attr = def.implicitHeadOfQueue ? TaskAttr.HEAD_OF_QUEUE : req.attr;
    this.exec = exec ?? lu.device.exec.get(def)!;
  }

  /** Called once when the task set enables the task. */
  run(): void {
    this.execute();
  }

  onAbortWaiting(): void {
    this.done({ status: Status.TASK_ABORTED, residualKind: ResidualKind.NONE, residual: 0, aborted: true });
  }

  /**
   * The transport's answer to the request for Data-Out, while the command is at the arrival stage:
   * the data enters the task set with it; a failed transfer ends it there (ABORTED COMMAND, DATA
   * PHASE ERROR), never having held the task set.
   */
  dataArrived(data: Uint8Array | undefined): void {
    // Aborted while its data was in transfer: it already ended (onAbortWaiting).
    if (this.state !== TaskState.DATA_TRANSFER) return;
    const xfer = this.xferBytes;
    if (!data || data.length < Math.min(xfer, this.req.expectedLength)) { this.settle(check(SENSE.DATA_PHASE_ERROR)); return; }
    this.dataOut = data.length <= xfer ? data : data.subarray(0, xfer);
    this.lu.tasks.dataIn(this);
  }

  private execute(): void {
    let out: Outcome | Promise<Outcome>;
    try {
      out = this.exec(this);
    } catch (err) {
      out = internalFailure(err, this.req, this.log);
    }
    if (out instanceof Promise) {
      out.then(o => this.settle(o), err => this.settle(internalFailure(err, this.req, this.log)));
    } else {
      this.settle(out);
    }
  }

  private settle(o: Outcome): void {
    const lu = this.lu;
    const tasks = lu.tasks;
    tasks.complete(this);
    const now = nowNs();
    lu.statistics.recordLatency(now - this.started, this.xferBytes > 0 ? this.xferBytes : 0);
    if (o.status === Status.GOOD) {
      if (tasks.size === 0) lu.statistics.idleAt(now);
      record(this.def, this.f, this.xferBytes, lu, now - this.started);
    } else if (tasks.size === 0) {
      lu.statistics.idleAt(now);
    }
    if (this.aborted) {
      o.release?.();
      this.done({ status: Status.TASK_ABORTED, residualKind: ResidualKind.NONE, residual: 0, aborted: true });
      return;
    }
    finish(this.mapping, this.req, o, this.done, this.xferBytes, this.def.dir);
  }
}

/** SPC-4 table 375: rows that count as reads (READ(n)) and the Data-Out rows that write the medium. */
function record(def: CdbDef, f: Decoded<FieldMap>, xfer: number, lu: LogicalUnit, elapsedNs: number): void {
  const fua = (f as { fua?: boolean }).fua === true;
  if (def.countsAsRead) lu.statistics.recordRead(Math.floor(xfer / lu.blockSize), fua, elapsedNs);
  else if (def.writes && def.dir === Dir.OUT) lu.statistics.recordWrite(Math.floor(xfer / lu.blockSize), fua, elapsedNs);
}

/** STYLE.md rule 4: a handler that throws is a bug; the initiator sees INTERNAL TARGET FAILURE. */
function internalFailure(err: unknown, req: CommandRequest, log?: Logger): Outcome {
  log?.error({ err, cdb: Buffer.from(req.cdb).toString('hex'), lun: req.lun }, 'command handler failed');
  return check(SENSE.INTERNAL_TARGET_FAILURE);
}

/** SPC-4 4.5.1: the sense format the unit's control mode page (D_SENSE) asks for; fixed without a unit. */
export function senseFormatOf(lu: Pick<LogicalUnit, 'modes'> | undefined): SenseFormat {
  return lu?.modes.descriptorSense ? SenseFormat.DESCRIPTOR : SenseFormat.FIXED;
}

/**
 * Completion: sense bytes in the format the control page asks for, Data-In trimmed to the CDB's
 * transfer length and the initiator's expected length, and the residual (SAM-5 5.3).
 * `xfer` is the CDB's transfer length, or -1 when the command never got that far.
 */
function finish(
  mapping: Mapping | undefined, req: CommandRequest, o: Outcome, done: CompletionCallback, xfer: number, dir = Dir.NONE,
): void {
  const edtl = req.expectedLength;
  mapping?.lu.statistics.recordStatus(o.status, o.sense ? o.sense.cond.key : 0);
  if (o.status === Status.CHECK_CONDITION && o.sense && !(o.data && dir === Dir.IN)) {
    o.release?.();
    const fmt = senseFormatOf(mapping?.lu);
    // No Data-In moves with a CHECK CONDITION; an OUT command's residual still compares what the CDB
    // asked for with what the initiator expected to send.
    const intended = dir === Dir.OUT && xfer > 0 ? xfer : 0;
    done({
      status: o.status, sense: o.senseBytes ? Buffer.from(o.senseBytes) : buildSense(o.sense, fmt),
      residualKind: intended > edtl ? ResidualKind.OVERFLOW : intended < edtl ? ResidualKind.UNDERFLOW : ResidualKind.NONE,
      residual: Math.abs(intended - edtl),
    });
    return;
  }
  // SSC-4 4.2: a READ that stops early (filemark, end-of-data, incorrect length) returns the data it
  // read and its sense; the residual counts what did not move, as for GOOD.
  const sense = o.status === Status.CHECK_CONDITION && o.sense
    ? buildSense(o.sense, senseFormatOf(mapping?.lu)) : undefined;
  let data = o.data;
  // Data-In the command intends to move: what it produced, at most the CDB's transfer length.
  let intended = data ? data.length : 0;
  if (data && xfer >= 0 && intended > xfer) { data = data.subarray(0, xfer); intended = xfer; }
  // OUT commands "move" their Data-Out: the residual compares it with the expected length.
  if (dir === Dir.OUT && xfer > 0) intended = xfer;
  let residualKind = ResidualKind.NONE;
  let residual = 0;
  if (intended > edtl) {
    residualKind = ResidualKind.OVERFLOW; residual = intended - edtl;
    if (data) data = data.subarray(0, edtl);
  } else if (intended < edtl) {
    residualKind = ResidualKind.UNDERFLOW; residual = edtl - intended;
  }
  if (sense) {
    if (o.release) done({ status: o.status, sense, data, residualKind, residual, release: o.release });
    else done({ status: o.status, sense, data, residualKind, residual });
  }
  else if (o.release === undefined) done({ status: o.status, data, residualKind, residual });
  else if (data !== undefined && data.length > 0) done({ status: o.status, data, residualKind, residual, release: o.release });
  else {
    o.release();
    done({ status: o.status, data, residualKind, residual });
  }
}
