import { SENSE } from './spec/asc';
import { Op } from './spec/opcodes';
import { Status } from './spec/status';
import { check, good, GOOD, Outcome, RESERVATION_CONFLICT } from './result';
import { buildSense, SenseFormat } from './sense';
import { Binding, bind, ExecContext, NexusView } from './types';
import { CommandRequest } from './command';
import { mediumNotPresent } from './medium';
import { CdbTable } from './cdb/registry';
import { CdbDef, Decoded, FieldMap, invalidField } from './cdb/dsl';
import { INQUIRY } from './cdb/defs/spc';
import { buildNoUnitInquiry, buildNoUnitVpd00 } from './inquiry';
import {
  RELEASE_10, RELEASE_6, REPORT_LUNS, REQUEST_SENSE, RESERVE_10, RESERVE_6, TEST_UNIT_READY,
} from './cdb/defs/core';

/**
 * The commands the engine core executes: they act on I_T_L nexus state (unit attentions,
 * reservations, the LUN map) rather than on the medium.
 */

// SPC-4 6.37: readiness is decided by the pipeline (stopped units answer NOT READY before this).
const execTestUnitReady = (): Outcome => GOOD;

// SPC-4 6.39: a pending unit attention is returned as parameter data and cleared; otherwise the
// unit's current state (MEDIUM NOT PRESENT while ejected, NOT READY while stopped) or NO SENSE.
function execRequestSense(ctx: ExecContext<{ desc: boolean }>): Outcome {
  const { lu, nexus } = ctx;
  const fmt = ctx.f.desc ? SenseFormat.DESCRIPTOR : SenseFormat.FIXED;
  const ua = lu.ua.queue(nexus.itKey).take();
  const cond = ua ?? (lu.sanitizing ? SENSE.SANITIZE_IN_PROGRESS : !lu.mediumPresent ? mediumNotPresent(lu)
    : lu.stopped ? SENSE.LUN_NOT_READY_INITIALIZING_COMMAND_REQUIRED : SENSE.NO_ADDITIONAL_SENSE);
  // SBC-4 5.30.1 / SPC-4 4.5.2.4.4: polled during a sanitize, REQUEST SENSE reports its progress.
  const progress = ua === undefined && lu.sanitizing ? lu.sanitizeProgress : undefined;
  return good(buildSense({ cond, ...(progress !== undefined ? { progress } : {}) }, fmt));
}

/** SAM-5 4.6.4: single level LUN structure, peripheral device (<256) or flat space addressing. */
export function encodeLun(lun: number, out: Buffer, at: number): void {
  out.fill(0, at, at + 8);
  if (lun < 256) { out[at + 1] = lun; } else { out[at] = 0x40 | ((lun >> 8) & 0x3f); out[at + 1] = lun & 0xff; }
}

// SPC-4 6.33 REPORT LUNS
function reportLuns(nexus: NexusView, selectReport: number, allocationLength: number): Outcome {
  if (allocationLength < 16) return invalidField(REPORT_LUNS.fields.allocationLength);
  let luns: number[];
  switch (selectReport) {
    case 0x00: case 0x02: luns = nexus.luns(); break; // no well-known LUNs exist, so 00h = 02h
    case 0x01: luns = []; break;                      // well-known LUNs only
    default: return invalidField(REPORT_LUNS.fields.selectReport);
  }
  const out = Buffer.alloc(8 + 8 * luns.length);
  out.writeUInt32BE(8 * luns.length, 0); // LUN LIST LENGTH
  luns.forEach((l, i) => encodeLun(l, out, 8 + 8 * i));
  return good(out);
}

function execReportLuns(ctx: ExecContext<{ selectReport: number; allocationLength: number }>): Outcome {
  return reportLuns(ctx.nexus, ctx.f.selectReport, ctx.f.allocationLength);
}

// SPC-2 7.21/7.22: the reservation belongs to the I_T nexus that made it. On a unit several
// gateways export it is taken in the cluster (shared-reservations.ts).
function execReserve(ctx: ExecContext<unknown>): Outcome | Promise<Outcome> {
  const { lu, nexus } = ctx;
  const sharing = lu.pr.sharing;
  if (sharing === undefined) return lu.reservation.reserve(nexus.itKey) ? GOOD : RESERVATION_CONFLICT;
  return sharing.update(() => {
    if (lu.reservation.conflicts(nexus.itKey)) return { result: RESERVATION_CONFLICT };
    return lu.reservation.holder === nexus.itKey ? { result: GOOD } : { result: GOOD, next: { spc2: nexus.itKey } };
  });
}

// SPC-2 7.24: RELEASE from a non-holder is not an error and releases nothing.
function execRelease(ctx: ExecContext<unknown>): Outcome | Promise<Outcome> {
  const { lu, nexus } = ctx;
  const sharing = lu.pr.sharing;
  if (sharing === undefined) { lu.reservation.release(nexus.itKey); return GOOD; }
  return sharing.update(() => (lu.reservation.holder === nexus.itKey ? { result: GOOD, next: { spc2: undefined } } : { result: GOOD }));
}

export const coreBindings: Binding[] = [
  bind(TEST_UNIT_READY, execTestUnitReady),
  bind(REQUEST_SENSE, execRequestSense),
  bind(REPORT_LUNS, execReportLuns),
  bind(RESERVE_6, execReserve),
  bind(RELEASE_6, execRelease),
  bind(RESERVE_10, execReserve),
  bind(RELEASE_10, execRelease),
];

const unmappedTable = new CdbTable([INQUIRY, REQUEST_SENSE, REPORT_LUNS] as unknown as CdbDef[]);

/**
 * A command to a LUN this nexus has no logical unit at (SPC-4 5.10, DESIGN.md §4): INQUIRY answers
 * with peripheral qualifier 011b, REPORT LUNS and REQUEST SENSE work, the rest get LOGICAL UNIT NOT
 * SUPPORTED. Data-In is trimmed to the allocation length here since no row of a device applies.
 */
export function unmappedLunOutcome(nexus: NexusView, req: CommandRequest): Outcome {
  const dec = unmappedTable.decode(req.cdb);
  // Any other opcode: the LUN answers nothing else, whatever the CDB holds.
  if (!dec.ok) return unmappedTable.hasOpcode(req.cdb[0]) ? dec.outcome : check(SENSE.LUN_NOT_SUPPORTED);
  const o = unmappedExec(dec.def, dec.f, nexus);
  if (!o.data) return o;
  const xfer = dec.def.xferBytes(dec.f, 0); // the allocation length
  return o.data.length > xfer ? good(o.data.subarray(0, xfer)) : o;
}

function unmappedExec(def: CdbDef, f: Decoded<FieldMap>, nexus: NexusView): Outcome {
  switch (def.op) {
    case Op.INQUIRY: {
      const { evpd, pageCode } = f as { evpd: boolean; pageCode: number };
      // SPC-4 6.6.1: PAGE CODE without EVPD, or a VPD page not supported, is INVALID FIELD IN CDB.
      if (pageCode !== 0) return invalidField(INQUIRY.fields.pageCode);
      return good(evpd ? buildNoUnitVpd00() : buildNoUnitInquiry());
    }
    case Op.REPORT_LUNS: {
      const { selectReport, allocationLength } = f as { selectReport: number; allocationLength: number };
      return reportLuns(nexus, selectReport, allocationLength);
    }
    default: {
      // REQUEST SENSE (SPC-4 6.39): GOOD with LOGICAL UNIT NOT SUPPORTED as the parameter data.
      const { desc } = f as { desc: boolean };
      return { status: Status.GOOD, data: buildSense({ cond: SENSE.LUN_NOT_SUPPORTED }, desc ? SenseFormat.DESCRIPTOR : SenseFormat.FIXED) };
    }
  }
}
