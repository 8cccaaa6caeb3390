import { CdbDef, Decoded, invalidFieldOf } from './cdb/dsl';
import { REPORT_SUPPORTED_OPERATION_CODES, REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS } from './cdb/defs/spc';
import { Outcome, good } from './result';
import { SERVICE_ACTION_OPCODES } from './spec/opcodes';
import { ExecContext, LuView } from './types';

/**
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
 * (SPC-4 6.36). Both are generated from the unit's command table and nothing else.
 */

/** SPC-4 6.35.1 table 257: REPORTING OPTIONS. */
export enum ReportingOptions {
  ALL = 0b000,
  OPCODE = 0b001,
  OPCODE_AND_SERVICE_ACTION = 0b010,
  /** SPC-5: the service action is used only when the opcode has service actions. */
  OPCODE_EITHER = 0b011,
}

/** SPC-4 6.35.3 table 260: SUPPORT. */
export enum CommandSupport { NOT_SUPPORTED = 0b001, SUPPORTED = 0b011 }

/** SPC-4 6.35.4 table 261: the command timeouts descriptor is 12 bytes, DESCRIPTOR LENGTH 0Ah. */
export const COMMAND_TIMEOUTS_DESCRIPTOR_LENGTH = 12;

function rowsOf(lu: LuView): readonly CdbDef[] {
  const typeBit = (1 << lu.type) >>> 0;
  return lu.table.all().filter(d => ((d.types >>> 0) & typeBit) !== 0);
}

/** SPC-4 6.35.4: command timeouts descriptor; zero timeouts mean "not specified". */
function timeoutsDescriptor(def: CdbDef): Buffer {
  const b = Buffer.alloc(COMMAND_TIMEOUTS_DESCRIPTOR_LENGTH);
  b.writeUInt16BE(COMMAND_TIMEOUTS_DESCRIPTOR_LENGTH - 2, 0); // DESCRIPTOR LENGTH
  // byte 2 reserved, byte 3 COMMAND SPECIFIC (zero)
  b.writeUInt32BE(def.timeouts?.[0] ?? 0, 4); // NOMINAL COMMAND PROCESSING TIMEOUT
  b.writeUInt32BE(def.timeouts?.[1] ?? 0, 8); // RECOMMENDED COMMAND TIMEOUT
  return b;
}

/**
 * SPC-4 6.35.3: CDB USAGE DATA. Byte 0 is the opcode; for service-action commands the service
 * action itself sits in the SERVICE ACTION field's place; the other bytes are the usage mask.
 */
export function cdbUsageData(def: CdbDef): Buffer {
  const u = Buffer.from(def.usage);
  if (def.sa !== undefined) u[1] = (u[1] & 0xe0) | (def.sa & 0x1f);
  return u;
}

/** SPC-4 6.35.2 table 258: all_commands parameter data. */
function allCommands(rows: readonly CdbDef[], rctd: boolean): Buffer {
  const descs = rows.map(def => {
    const d = Buffer.alloc(8); // table 259: command descriptor
    d[0] = def.op; // OPERATION CODE
    d.writeUInt16BE(def.sa ?? 0, 2); // SERVICE ACTION
    d[5] = (rctd ? 0x02 : 0) | (def.sa !== undefined ? 0x01 : 0); // CTDP | SERVACTV
    d.writeUInt16BE(def.size, 6); // CDB LENGTH
    return rctd ? Buffer.concat([d, timeoutsDescriptor(def)]) : d;
  });
  const body = Buffer.concat(descs);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length, 0); // COMMAND DATA LENGTH
  return Buffer.concat([h, body]);
}

/** SPC-4 6.35.3 table 260: one_command parameter data. */
function oneCommand(def: CdbDef | undefined, rctd: boolean): Buffer {
  const h = Buffer.alloc(4);
  if (!def) {
    h[1] = CommandSupport.NOT_SUPPORTED; // SUPPORT 001b, CDB SIZE 0, no usage data
    return h;
  }
  h[1] = (rctd ? 0x80 : 0) | CommandSupport.SUPPORTED; // CTDP | SUPPORT
  h.writeUInt16BE(def.size, 2); // CDB SIZE
  const parts = [h, cdbUsageData(def)];
  if (rctd) parts.push(timeoutsDescriptor(def));
  return Buffer.concat(parts);
}

export function spcReportSupportedOperationCodes(
  ctx: ExecContext<Decoded<typeof REPORT_SUPPORTED_OPERATION_CODES.fields>>,
): Outcome {
  const { rctd, reportingOptions, requestedOperationCode: op, requestedServiceAction: sa } = ctx.f;
  const rows = rowsOf(ctx.lu);
  const hasSa = SERVICE_ACTION_OPCODES.has(op);
  const find = (withSa: boolean): CdbDef | undefined =>
    rows.find(d => d.op === op && (withSa ? d.sa === sa : d.sa === undefined));
  switch (reportingOptions) {
    case ReportingOptions.ALL:
      return good(allCommands(rows, rctd));
    case ReportingOptions.OPCODE:
      // SPC-4 6.35.1: an opcode with service actions cannot be reported without one.
      if (hasSa) return invalidFieldOf(ctx.def, 'requestedOperationCode');
      return good(oneCommand(find(false), rctd));
    case ReportingOptions.OPCODE_AND_SERVICE_ACTION:
      // SPC-4 6.35.1: an opcode without service actions cannot be reported with one.
      if (!hasSa) return invalidFieldOf(ctx.def, 'requestedOperationCode');
      // A SERVICE ACTION wider than the CDB's 5-bit field names nothing that exists.
      return good(oneCommand(find(true), rctd));
    case ReportingOptions.OPCODE_EITHER:
      return good(oneCommand(find(hasSa), rctd));
    default:
      return invalidFieldOf(ctx.def, 'reportingOptions');
  }
}

/**
 * SPC-4 6.36.2: the task management functions the task manager implements: ABORT TASK, ABORT TASK
 * SET, CLEAR TASK SET, LOGICAL UNIT RESET, QUERY TASK, TARGET RESET, QUERY TASK SET and I_T NEXUS
 * RESET; not CLEAR ACA (no ACA) nor QUERY ASYNCHRONOUS EVENT.
 */
export const SUPPORTED_TMFS = Object.freeze({
  // byte 0: ATS | ATSS | CACAS 0 | CTSS | LURS | QTS | TRS | WAKES 0
  byte0: 0x80 | 0x40 | 0x10 | 0x08 | 0x04 | 0x02,
  // byte 1: QAES 0 | QTSS | ITNRS
  byte1: 0x02 | 0x01,
});

export function spcReportSupportedTaskManagementFunctions(
  ctx: ExecContext<Decoded<typeof REPORT_SUPPORTED_TASK_MANAGEMENT_FUNCTIONS.fields>>,
): Outcome {
  // SPC-4 6.36.2 table 265: 4 bytes, or with REPD 1 the 16-byte extended format (table 266)
  const b = Buffer.alloc(ctx.f.repd ? 16 : 4);
  b[0] = SUPPORTED_TMFS.byte0;
  b[1] = SUPPORTED_TMFS.byte1;
  if (ctx.f.repd) {
    b[3] = 0x0c; // ADDITIONAL DATA LENGTH
    // byte 4 TMFTMOV 0: no TMF timeouts are reported, so bytes 6..15 stay zero
  }
  return good(b);
}
