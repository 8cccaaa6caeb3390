// RFC 7143 11.7 / 11.4: how a completed command goes back to the initiator. Read data is cut
// into Data-In PDUs of at most the initiator's MaxRecvDataSegmentLength, with the F bit at the
// end of every MaxBurstLength sequence; GOOD status without sense rides in the last Data-In
// (phase collapse, S bit, residuals); anything else ends with a SCSI Response.
import { Completion, ResidualKind } from '../../engine/command';
import { Status } from '../../engine/spec/status';
import {
  DataInFields, ScsiResponseFields, encodeDataIn, encodeDataInStatus, encodeScsiResponse, encodeSenseSegment,
} from './target-pdu';
import { RESERVED_TAG, ScsiServiceResponse } from './spec';
import type { PhaseContext } from './phase-context';
import type { Task } from './scsi-command';

/** What this module uses of the full feature phase. */
export type DataInContext = Pick<PhaseContext, 'host' | 'out' | 'params' | 'session' | 'stampSeq' | 'statSN'>;

const EMPTY = Buffer.alloc(0);

/** One Data-In PDU of a plan, in DataSN order. */
export interface PlannedDataIn {
  offset: number;
  length: number;
  /** F: ends a Data-In sequence (MaxBurstLength) or the transfer. */
  final: boolean;
  /** S: carries the status (phase collapse). */
  status: boolean;
}

export interface DataInPlan {
  /** The PDUs are pdus[0 .. count - 1]; entries past count are kept for reuse. */
  pdus: PlannedDataIn[];
  count: number;
  /** A separate SCSI Response follows (sense data, or a status that may not be collapsed). */
  response: boolean;
}

/**
 * RFC 7143 11.7.4: status may accompany the last Data-In only when the command ended without
 * an exception (GOOD or CONDITION MET) and so carries no sense data.
 */
export function collapsible(c: Completion): boolean {
  return (c.status === Status.GOOD || c.status === Status.CONDITION_MET) && (!c.sense || c.sense.length === 0);
}

export function planDataIn(c: Completion, maxSegment: number, maxBurst: number): DataInPlan {
  return planDataInInto({ pdus: [], count: 0, response: false }, c, maxSegment, maxBurst);
}

/**
 * planDataIn into `plan`, reusing its PDU entries (a connection keeps one plan: a read of the
 * same shape as the last one allocates nothing, DESIGN.md §10).
 */
export function planDataInInto(plan: DataInPlan, c: Completion, maxSegment: number, maxBurst: number): DataInPlan {
  const total = c.data?.length ?? 0;
  const collapse = collapsible(c);
  const pdus = plan.pdus;
  let n = 0;
  let offset = 0;
  let inBurst = 0;
  while (offset < total) {
    const length = Math.min(maxSegment, total - offset, maxBurst - inBurst);
    offset += length;
    inBurst += length;
    const last = offset === total;
    // RFC 7143 11.7.1: F ends a Data-In sequence (MaxBurstLength) and the whole transfer.
    const final = last || inBurst === maxBurst;
    if (final) inBurst = 0;
    const d = n < pdus.length ? pdus[n] : (pdus[n] = { offset: 0, length: 0, final: false, status: false });
    d.offset = offset - length;
    d.length = length;
    d.final = final;
    d.status = last && collapse;
    n++;
  }
  plan.count = n;
  plan.response = !collapse || total === 0;
  return plan;
}

/**
 * A connection's sender of completions: Data-In PDUs and the SCSI Response, from one fields
 * object each refilled per PDU (DESIGN.md §10: no per-PDU object shapes).
 */
export class DataInSender {
  private readonly responseFields: ScsiResponseFields = {
    statSN: 0, expCmdSN: 0, maxCmdSN: 0, itt: 0, response: ScsiServiceResponse.COMMAND_COMPLETED_AT_TARGET, status: 0,
    expDataSN: 0, residual: ResidualKind.NONE, residualCount: 0, bidiResidual: ResidualKind.NONE, bidiResidualCount: 0, snackTag: 0,
    dataSegmentLength: 0,
  };
  /** The Data-In PDUs of the completion being sent, reused. */
  private readonly plan: DataInPlan = { pdus: [], count: 0, response: false };
  private readonly dataInFields: DataInFields = {
    final: false, ack: false, status: undefined, lun: 0, itt: 0, ttt: RESERVED_TAG, statSN: 0, expCmdSN: 0, maxCmdSN: 0,
    dataSN: 0, bufferOffset: 0, residual: undefined, residualCount: undefined, dataSegmentLength: 0,
  };

  constructor(private readonly ffp: DataInContext) {}

  /** RFC 7143 11.4 / 11.7: Data-In with phase collapse, or a SCSI Response. */
  complete(task: Task, c: Completion): void {
    const ffp = this.ffp;
    if (c.aborted || task.aborted || !ffp.host.isFullFeature) {
      // RFC 7143 11.5.1: an aborted task is freed without a response.
      c.release?.();
      return;
    }
    const out = ffp.out;
    if (c.release) out.releaseAfterWrite(c.release);
    const prm = ffp.params;
    const data = c.data ?? EMPTY;
    const n = data.length;
    if (n > 0 && n <= prm.maxXmitDataSegmentLength && n <= prm.maxBurstLength && collapsible(c)) {
      // RFC 7143 11.7.4: the whole read fits one Data-In, which carries the status (the common case).
      const bhs = out.bhs();
      const w = ffp.session.window;
      encodeDataInStatus(bhs, 0, c.status, Math.max(0, task.lun), task.itt, ffp.statSN, w.expCmdSN, w.maxCmdSN, c.residualKind, c.residual, n);
      ffp.statSN = (ffp.statSN + 1) >>> 0;
      out.queue(bhs, data);
      return;
    }
    const residual = c.residualKind;
    let dataSN = 0;
    if (n > 0) {
      const plan = planDataInInto(this.plan, c, prm.maxXmitDataSegmentLength, prm.maxBurstLength);
      const f = this.dataInFields;
      for (let i = 0; i < plan.count; i++) {
        const d = plan.pdus[i];
        // RFC 7143 4.2.2.2: only the Data-In that carries status consumes a StatSN.
        ffp.stampSeq(f, d.status);
        f.final = d.final;
        f.status = d.status ? c.status : undefined;
        f.lun = Math.max(0, task.lun);
        f.itt = task.itt;
        f.dataSN = dataSN++;
        f.bufferOffset = d.offset;
        f.residual = d.status ? residual : undefined;
        f.residualCount = d.status ? c.residual : undefined;
        f.dataSegmentLength = d.length;
        const bhs = out.bhs();
        encodeDataIn(bhs, 0, f);
        out.queue(bhs, data.subarray(d.offset, d.offset + d.length));
      }
      if (!plan.response) return;
    }
    const sense = c.sense && c.sense.length > 0 ? c.sense : undefined;
    const seg = sense ? out.scratchBytes(2 + sense.length) : EMPTY;
    if (sense) encodeSenseSegment(seg, 0, sense);
    const f = this.responseFields;
    ffp.stampSeq(f, true);
    f.itt = task.itt;
    f.status = c.status;
    // RFC 7143 11.4.8: ExpDataSN counts the Data-In and R2T PDUs sent for the task.
    f.expDataSN = dataSN + (task.collector?.r2tCount ?? 0);
    f.residual = residual;
    f.residualCount = residual === ResidualKind.NONE ? 0 : c.residual;
    f.dataSegmentLength = seg.length;
    const bhs = out.bhs();
    encodeScsiResponse(bhs, 0, f);
    out.queue(bhs, seg);
  }
}
