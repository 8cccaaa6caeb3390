// DESIGN.md §8: one TCMU device served by Nexus, the session actor of the HBA shim. LIO's core
// (behind tcm_loop, tcm_fc, tcm_qla2xxx or ib_srpt) hands each command of the device's LUN to
// user space through the ring; here it becomes an engine command on one I_T nexus of the runtime
// (the same NexusApi an iSCSI session uses: a direct call when the unit is on this thread, a
// descriptor on a ring when it is on another engine thread), and its completion is written back
// in place. A TCMU entry names no initiator (struct tcmu_cmd_entry has the CDB, the buffers and
// a command id), so the nexus stands for "LIO's core": per-initiator state stays there.
//
// - Commands: cmd_id is the task tag (unique among the ring's commands in flight). Data-Out is a
//   view of the data area when the kernel gave one buffer (no copy), Data-In is copied into the
//   command's buffers once, the remainder zeroed. Completions are written as they come (out of
//   order with CAP_OOOC, else in ring order) and the kernel is kicked once per batch: one
//   4-byte write per event-loop turn that completed anything, not one per command.
// - READ_LEN: a read that returns less than its buffer says how much (rsp.read_len), so LIO
//   reports the residual (SAM-5 5.3) instead of the whole buffer.
// - TMR (tmr_notification=1): the commands a task management function aborted in LIO's core
//   reach the engine's task management as ABORT TASK each (SAM-5 7.2), so their work stops;
//   LIO has already done the function's own effects (unit attentions, reservations) on its side.
//   An aborted command is still completed in the ring (TASK ABORTED): the kernel waits for it.
// - UNKNOWN_OP is never set: the engine answers a command it does not know with ILLEGAL REQUEST,
//   INVALID COMMAND OPERATION CODE (SPC-4 4.5.6), which the initiator can act on, whereas
//   UNKNOWN_OP makes LIO answer LOGICAL UNIT COMMUNICATION FAILURE. KEEP_BUF is not used: Data-In
//   is written before the completion, so the buffer is never needed after it.
// - A ring whose head or an entry is malformed fails the device: nothing more is read or written
//   in the mapping, the nexus is closed (its tasks aborted), and `failed` says why.
import type { NexusApi } from '../../engine/engine-api';
import type { Completion } from '../../engine/command';
import { Status, TaskAttr, TmfFunction } from '../../engine/spec/status';
import { Dir } from '../../engine/cdb/dsl';
import { isOutcome } from '../../engine/cdb/registry';
import { deviceTypes } from '../../engine/device-registry';
import type { FabricLogger } from '../fabric';
import { TcmuMailboxFlag, TcmuOp } from './spec';
import type { TcmuTmr } from './spec';
import { TcmuRing, isRingFault } from './ring';
import type { CmdEntry, RingCompletion, RingFault } from './ring';

/** The kernel side of one device: its mapping and its kick (the uio device, or the simulator). */
export interface TcmuPort {
  /** The whole mapping: mailbox, command ring, data area. */
  readonly map: ArrayBuffer;
  /** Tell the kernel to reap completions up to cmd_tail; an error value when it cannot. */
  kick(): { readonly errno: string; readonly message?: string } | undefined;
  /** Stop watching the device and let the mapping go. */
  close(): void;
}

export interface TcmuDeviceOptions {
  readonly port: TcmuPort;
  /** The nexus that stands for LIO's core (one per TCMU device). */
  readonly nexus: NexusApi;
  /** The device's LUN on that nexus (default 0). */
  readonly lun?: number;
  /** The unit's device type (device-registry.ts), to know a command's direction; default disk. */
  readonly deviceType?: string;
  readonly log?: FabricLogger;
  /** The ring was found malformed and the device failed (called once). */
  readonly onFailed?: (fault: RingFault) => void;
}

export interface TcmuDeviceStats {
  commands: number;
  completions: number;
  kicks: number;
  tmrs: number;
  abortsSent: number;
}

interface InFlight {
  readonly entry: CmdEntry;
  readonly dir: Dir;
}

export class TcmuDevice {
  readonly stats: TcmuDeviceStats = { commands: 0, completions: 0, kicks: 0, tmrs: 0, abortsSent: 0 };
  private readonly inFlight = new Map<number, InFlight>();
  /** Completions waiting for their turn at the tail (in-order rings only). */
  private readonly waiting = new Map<number, RingCompletion>();
  private kickPending = false;
  private fault: RingFault | undefined;
  private closing = false;
  private closed = false;
  private drained: (() => void) | undefined;
  private readonly ooo: boolean;
  private readonly lun: number;

  private constructor(private readonly ring: TcmuRing, private readonly opts: TcmuDeviceOptions) {
    this.ooo = ring.has(TcmuMailboxFlag.CAP_OOOC);
    this.lun = opts.lun ?? 0;
  }

  /** Serves the ring of `port` (its mailbox checked first), or says why it cannot. */
  static attach(opts: TcmuDeviceOptions): TcmuDevice | RingFault {
    const ring = TcmuRing.attach(opts.port.map);
    if (isRingFault(ring)) return ring;
    return new TcmuDevice(ring, opts);
  }

  /** The fault that failed the device, if one did. */
  get failed(): RingFault | undefined { return this.fault; }

  get inFlightCount(): number { return this.inFlight.size; }

  /** The kernel signalled (new entries, or the device went away). */
  onEvent(event: number | { readonly errno: string; readonly message?: string }): void {
    if (this.fault || this.closed) return;
    if (typeof event !== 'number') {
      this.fail({ fault: `uio device: ${event.errno}${event.message ? ` (${event.message})` : ''}` });
      return;
    }
    this.serve();
  }

  /** Reads every new entry and starts its work. */
  serve(): void {
    if (this.fault || this.closed) return;
    const entries = this.ring.readNew();
    if (isRingFault(entries)) {
      this.fail(entries);
      return;
    }
    for (const e of entries) {
      if (e.kind === TcmuOp.CMD) this.execute(e);
      else this.taskManagement(e.tmrType, e.cmdIds);
    }
    // PAD and TMR entries at the tail give their ring space back at once.
    if (this.ring.releaseNonCommands()) this.scheduleKick();
  }

  private execute(e: CmdEntry): void {
    this.stats.commands++;
    const dir = this.directionOf(e.cdb);
    this.inFlight.set(e.cmdId, { entry: e, dir });
    if (this.closing) {
      // SAM-5 5.3.1: a device going away answers BUSY; LIO's core retries or fails it.
      this.finish(e.cmdId, { cmdId: e.cmdId, status: Status.BUSY });
      return;
    }
    const dataOut = dir === Dir.OUT && e.dataLength > 0 ? this.ring.gather(e.iovs, e.dataLength) : undefined;
    this.opts.nexus.execute(
      { lun: this.lun, cdb: e.cdb, tag: e.cmdId, attr: TaskAttr.SIMPLE, expectedLength: e.dataLength, dataOut },
      c => this.completed(e.cmdId, c),
    );
  }

  /** The direction of the CDB by the device type's table; a CDB it refuses moves no data. */
  private directionOf(cdb: Uint8Array): Dir {
    const row = deviceTypes.get(this.opts.deviceType).table.rowOf(cdb);
    return isOutcome(row) ? Dir.NONE : row.dir;
  }

  private completed(cmdId: number, c: Completion): void {
    const f = this.inFlight.get(cmdId);
    if (!f || this.fault || this.closed) {
      c.release?.();
      return;
    }
    let readLength: number | undefined;
    if (f.dir === Dir.IN || f.dir === Dir.BIDI) {
      const iovs = f.dir === Dir.BIDI ? f.entry.bidiIovs : f.entry.iovs;
      this.ring.scatter(iovs, c.aborted ? undefined : c.data);
      const n = c.aborted ? 0 : c.data?.length ?? 0;
      if (n < f.entry.dataLength) readLength = n;
    }
    c.release?.();
    const status = c.aborted ? Status.TASK_ABORTED : c.status;
    this.finish(cmdId, { cmdId, status, sense: c.aborted ? undefined : c.sense, readLength });
  }

  private finish(cmdId: number, r: RingCompletion): void {
    if (this.ooo) {
      this.write(r);
    } else {
      // Without CAP_OOOC the kernel takes completions in ring order only.
      this.waiting.set(cmdId, r);
      for (let id = this.ring.commandAtTail(); id !== undefined && this.waiting.has(id); id = this.ring.commandAtTail()) {
        const w = this.waiting.get(id)!;
        this.waiting.delete(id);
        this.write(w);
      }
    }
  }

  private write(r: RingCompletion): void {
    this.inFlight.delete(r.cmdId);
    if (this.ring.complete(r)) {
      this.stats.completions++;
      this.scheduleKick();
    }
    if (this.inFlight.size === 0) this.drained?.();
  }

  /**
   * SAM-5 7.2: each command LIO's core aborted is aborted in the engine too; an empty list (the
   * commands were still queued in the kernel, or none were in flight) needs nothing here.
   */
  private taskManagement(type: TcmuTmr, cmdIds: readonly number[]): void {
    this.stats.tmrs++;
    this.opts.log?.info({ tmrType: type, cmdIds }, 'tcmu: task management notification');
    for (const id of cmdIds) {
      if (!this.inFlight.has(id)) continue;
      this.stats.abortsSent++;
      void this.opts.nexus.taskManagement({ fn: TmfFunction.ABORT_TASK, lun: this.lun, refTag: id });
    }
  }

  private scheduleKick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      if (this.fault || this.closed) return;
      this.kick();
    });
  }

  private kick(): void {
    this.stats.kicks++;
    const err = this.opts.port.kick();
    if (err) this.fail({ fault: `kick: ${err.errno}${err.message ? ` (${err.message})` : ''}` });
  }

  private fail(fault: RingFault): void {
    if (this.fault || this.closed) return;
    this.fault = fault;
    this.opts.log?.error({ fault: fault.fault }, 'tcmu: ring failed, device stopped');
    this.closed = true;
    this.inFlight.clear();
    this.waiting.clear();
    this.opts.port.close();
    void this.opts.nexus.close('loss');
    this.opts.onFailed?.(fault);
  }

  /**
   * Stops serving: commands still arriving are answered BUSY, those in flight complete (up to
   * `graceMs`), the last completions reach the kernel, then the device and the nexus close.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.serve();
    if (this.inFlight.size > 0) {
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, graceMs);
        this.drained = () => { clearTimeout(timer); resolve(); };
      });
    }
    if (!this.closed) {
      this.kick();
      this.closed = true;
      this.opts.port.close();
      await this.opts.nexus.close('logout');
    }
  }
}
