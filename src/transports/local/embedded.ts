import type { Engine, EngineOptions } from '../../engine/engine';
import type { NexusApi } from '../../engine/engine-api';
import { Supervisor, SupervisorOptions } from '../../workers/supervisor';
import { Completion, ResidualKind } from '../../engine/command';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../engine/spec/status';
import { parseSense } from '../../engine/sense';
import { NexusError } from '../../engine/result';
import { Topology, LunMapping } from '../../engine/topology';

/**
 * Embedded mode (SCST's scst_local): the engine in-process, with an initiator API for test rigs.
 * The same runtime the daemon runs (src/workers/supervisor.ts); only the transport differs. The
 * sessions live on the calling thread, whose scheduler hosts every unit with 0 engine threads
 * (every command a direct call) and none with N (every command crosses a ring to the unit's
 * engine thread, as a session placed away from its units would in the daemon).
 */

export interface ExecuteOptions {
  dataOut?: Uint8Array;
  /** Expected Data Transfer Length; defaults to the CDB's own transfer length. */
  expectedLength?: number;
  attr?: TaskAttr;
}

export interface ExecuteResult {
  status: Status;
  sense?: Buffer;
  /** Sense key / ASC / ASCQ decoded from `sense`, for assertions. */
  senseKey?: number;
  asc?: number;
  ascq?: number;
  information?: bigint;
  data: Buffer;
  residual: number;
  residualKind: ResidualKind;
  /** Aborted by task management with no status (TAS = 0). */
  aborted: boolean;
}

export interface SubmittedCommand { tag: number; result: Promise<ExecuteResult> }

/** A nexus of the calling thread's engine, with the CDB sizing embedded mode needs. */
export type LocalNexus = NexusApi & { transferLengthFor(lun: number, cdb: Uint8Array): number | undefined };

export interface EmbeddedOptions extends EngineOptions {
  /**
   * Engine threads: 0 (default) hosts the units on this thread; N > 0 runs the logical units on
   * N engine threads, with the same results.
   */
  threads?: number;
  /** Runtime tuning (rings, pool, queue bound, supervision) when threads > 0. */
  runtime?: Omit<SupervisorOptions, 'threads' | 'callingThread' | 'here'>;
}

export class LocalSession {
  private nextTag = 1;

  constructor(readonly nexus: LocalNexus) {}

  get initiatorName(): string { return this.nexus.initiatorName; }

  /** Send a command and get its tag at once (to abort or query it), and its result later. */
  submit(lun: number, cdb: Uint8Array | number[], opts: ExecuteOptions = {}): SubmittedCommand {
    if (this.nexus.isClosed) throw new NexusError('ERR_SESSION_CLOSED', 'session is closed');
    const tag = this.nextTag++;
    const bytes = cdb instanceof Uint8Array ? cdb : Uint8Array.from(cdb);
    const expectedLength = opts.expectedLength ?? this.nexus.transferLengthFor(lun, bytes) ?? opts.dataOut?.length ?? 0;
    const result = new Promise<ExecuteResult>(resolve => {
      this.nexus.execute(
        { lun, cdb: bytes, tag, attr: opts.attr ?? TaskAttr.SIMPLE, expectedLength, dataOut: opts.dataOut },
        c => resolve(toResult(c)),
      );
    });
    return { tag, result };
  }

  execute(lun: number, cdb: Uint8Array | number[], opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    return this.submit(lun, cdb, opts).result;
  }

  taskManagement(fn: TmfFunction, lun = 0, refTag?: number): Promise<TmfResponse> {
    return this.nexus.taskManagement({ fn, lun, refTag });
  }

  /** End the session: `logout` cleanly, or simulate an I_T nexus loss (dropped connection). */
  close(reason: 'logout' | 'loss' = 'logout'): Promise<void> {
    return this.nexus.close(reason);
  }
}

function toResult(c: Completion): ExecuteResult {
  const s = c.sense ? parseSense(c.sense) : undefined;
  // A pool-backed Data-In (engine threads) is copied out and its buffer released at once.
  const data = !c.data ? Buffer.alloc(0)
    : c.release ? Buffer.from(c.data)
    : Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  c.release?.();
  return {
    status: c.status, sense: c.sense, senseKey: s?.key, asc: s?.asc, ascq: s?.ascq, information: s?.information,
    data, residual: c.residual, residualKind: c.residualKind, aborted: !!c.aborted,
  };
}

export class EmbeddedTarget {
  private constructor(readonly runtime: Supervisor, private readonly defaultTarget: string) {}

  /** Start an engine from a normalized topology (see src/daemon/config for the JSON normalizer). */
  static async start(topology: Pick<Topology, 'devices' | 'targets'> & { stateDir?: string }, opts: EmbeddedOptions = {}): Promise<EmbeddedTarget> {
    const first = topology.targets[0]?.name;
    if (!first) throw new NexusError('ERR_TOPOLOGY', 'topology has no target');
    const threads = opts.threads ?? 0;
    const { log, openBackstore, prStore } = opts;
    // Every command of an embedded session crosses to an engine thread anyway: spread the units
    // over the threads (placement.ts) unless asked otherwise.
    const runtime = await Supervisor.create(topology, {
      homing: 'spread', ...opts.runtime, threads, callingThread: true, here: { log, openBackstore, prStore },
    });
    return new EmbeddedTarget(runtime, first);
  }

  /** The units' Engine when they all live on this thread, for run-time reconfiguration. */
  private local(): Engine {
    if (this.runtime.threads === 0) return this.runtime.engine.unitEngine;
    throw new NexusError('ERR_UNSUPPORTED', 'LUN and size changes are not available with engine threads yet');
  }

  /** Open an I_T nexus as `initiatorName` (optionally with an initiator port id, like an ISID). */
  session(initiatorName: string, opts: { target?: string; isid?: string; tpgt?: number } = {}): LocalSession {
    const targetName = opts.target ?? this.defaultTarget;
    const n = this.runtime.engine.openNexus({ targetName, initiatorName, isid: opts.isid, tpgt: opts.tpgt });
    if (!n) throw new NexusError('ERR_NO_TARGET', `no target "${targetName}"`);
    return new LocalSession(n);
  }

  addLun(m: LunMapping, opts: { target?: string; group?: string } = {}): void {
    this.local().addLun(opts.target ?? this.defaultTarget, m, opts.group);
  }

  removeLun(lun: number, opts: { target?: string; group?: string } = {}): void {
    this.local().removeLun(opts.target ?? this.defaultTarget, lun, opts.group);
  }

  resize(device: string, sizeBytes: bigint): Promise<void> { return this.local().resizeDevice(device, sizeBytes); }

  /** Eject the medium of a CD/DVD-ROM device (`path` undefined) or insert the image at `path`. */
  changeMedium(device: string, path?: string): Promise<void> { return this.local().changeMedium(device, path); }

  stop(): Promise<void> { return this.runtime.close(); }
}
