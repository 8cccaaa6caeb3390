// SAM-5 4.6 / 5: the local transport's I_T nexus. A LocalSession is an initiator in this process:
// it sends CDBs to a nexus of the runtime and gets each command's status, sense and data back,
// with no wire in between (SCST's scst_local). Embedded mode (src/embedded.ts) opens them.
import type { NexusApi } from '../../engine/engine-api';
import { Completion, ResidualKind } from '../../engine/command';
import { Status, TaskAttr, TmfFunction, TmfResponse } from '../../engine/spec/status';
import { parseSense } from '../../engine/sense';
import { NexusError } from '../../engine/result';

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
