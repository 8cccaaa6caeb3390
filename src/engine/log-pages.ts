import { Decoded, invalidFieldOf } from './cdb/dsl';
import { LOG_SELECT, LOG_SENSE } from './cdb/defs/spc';
import { GOOD, Outcome, good, invalidParamField, check } from './result';
import { SENSE } from './spec/asc';
import { ExecContext, LogParameter, LuView } from './types';

import { LuStatistics } from './lu-statistics';

/**
 * Log pages (SPC-4 7.3): only pages a target can fill truthfully. Besides the two lists of
 * supported pages there is the General Statistics and Performance page (19h), fed by counters the
 * engine keeps per logical unit in a LuStatistics.
 */

export enum LogPageCode {
  SUPPORTED_LOG_PAGES = 0x00,
  GENERAL_STATISTICS_AND_PERFORMANCE = 0x19,
}

/** LOG SENSE SUBPAGE CODE FFh with PAGE CODE 00h: supported pages and subpages (SPC-4 7.3.19). */
export const SUPPORTED_SUBPAGES = 0xff;

/** SPC-4 6.8 table 152: the PC field. */
export enum LogPageControl { THRESHOLD = 0, CUMULATIVE = 1, DEFAULT_THRESHOLD = 2, DEFAULT_CUMULATIVE = 3 }

/** One time interval of page 19h (SPC-4 7.3.5.7): INTEGER 1 × 10^-EXPONENT 3 = one millisecond. */
export const TIME_INTERVAL = Object.freeze({ exponent: 3, integer: 1, ns: 1_000_000 });

/** SPC-4 7.3.2.2.2: parameter control byte. */
export const TSD = 0x20; // target save disable: nothing is saved implicitly
export const FORMAT_BOUNDED_COUNTER = 0x00; // FORMAT AND LINKING 00b (7.3.2.2.2.2)
export const FORMAT_UNBOUNDED_COUNTER = 0x02; // FORMAT AND LINKING 10b (7.3.2.2.2.3)
const FORMAT_BINARY_LIST = 0x03; // FORMAT AND LINKING 11b (7.3.2.2.2.5)

export function u64s(...v: number[]): Buffer {
  const b = Buffer.alloc(8 * v.length);
  v.forEach((x, i) => b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(Math.max(0, Math.floor(x)))), 8 * i));
  return b;
}

const intervals = (ns: number): number => Math.floor(ns / TIME_INTERVAL.ns);

/** SPC-4 7.3.6: the parameters of page 19h, zero counters for default cumulative values. */
function statisticsParameters(s: LuStatistics | undefined): LogParameter[] {
  const z = s ?? new LuStatistics();
  const interval = Buffer.alloc(8);
  interval.writeUInt32BE(TIME_INTERVAL.exponent, 0); // EXPONENT
  interval.writeUInt32BE(TIME_INTERVAL.integer, 4); // INTEGER
  return [
    // 0001h General Access Statistics and Performance (table 377). Command priority is not
    // supported, so both WEIGHTED fields are zero as the standard requires.
    { code: 0x0001, control: TSD | FORMAT_UNBOUNDED_COUNTER, value: u64s(
      z.readCommands, z.writeCommands, z.blocksReceived, z.blocksTransmitted,
      intervals(z.readProcessingNs), intervals(z.writeProcessingNs), 0, 0) },
    // 0002h Idle Time (table 378)
    { code: 0x0002, control: TSD | FORMAT_UNBOUNDED_COUNTER, value: u64s(intervals(z.idleNs)) },
    // 0003h Time Interval (7.3.5.7): a binary format list parameter
    { code: 0x0003, control: TSD | FORMAT_BINARY_LIST, value: interval },
    // 0004h Force Unit Access Statistics and Performance (table 379). FUA_NV is obsolete in SBC-4
    // and never honoured, so its counters are truthfully zero.
    { code: 0x0004, control: TSD | FORMAT_UNBOUNDED_COUNTER, value: u64s(
      z.readFuaCommands, z.writeFuaCommands, 0, 0,
      intervals(z.readFuaProcessingNs), intervals(z.writeFuaProcessingNs), 0, 0) },
  ];
}

/** SPC-4 7.3.2.1 table 328: log page header, then the parameters (7.3.2.2 table 331). */
function logPage(pageCode: number, subpage: number, ds: boolean, params: LogParameter[]): Buffer {
  const parts = params.map(p => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(p.code, 0); // PARAMETER CODE
    h[2] = p.control; // parameter control byte
    h[3] = p.value.length; // PARAMETER LENGTH
    return Buffer.concat([h, p.value]);
  });
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(4);
  h[0] = (ds ? 0x80 : 0) | (subpage ? 0x40 : 0) | pageCode; // DS | SPF | PAGE CODE
  h[1] = subpage; // SUBPAGE CODE
  h.writeUInt16BE(body.length, 2); // PAGE LENGTH
  return Buffer.concat([h, body]);
}

function listPage(subpage: number, body: number[]): Buffer {
  const h = Buffer.from([(subpage ? 0x40 : 0) | LogPageCode.SUPPORTED_LOG_PAGES, subpage, 0, 0]);
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, Buffer.from(body)]);
}

/** The (page, subpage) pairs this unit offers, ascending. */
function supportedPages(lu: LuView): Array<[number, number]> {
  const pages: Array<[number, number]> = [
    [LogPageCode.SUPPORTED_LOG_PAGES, 0],
    [LogPageCode.SUPPORTED_LOG_PAGES, SUPPORTED_SUBPAGES],
  ];
  for (const p of lu.logPages ?? []) pages.push([p.code, 0]);
  if (lu.statistics) pages.push([LogPageCode.GENERAL_STATISTICS_AND_PERFORMANCE, 0]);
  return pages.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** LOG SENSE (SPC-4 6.8). PPC and SP are outside the row's usage mask, so never set here. */
export function spcLogSense(ctx: ExecContext<Decoded<typeof LOG_SENSE.fields>>): Outcome {
  const { pc, pageCode, subpageCode, parameterPointer } = ctx.f;
  const supported = supportedPages(ctx.lu);
  if (!supported.some(([p, s]) => p === pageCode && s === subpageCode)) {
    // SPC-4 6.8: an unsupported page or subpage is INVALID FIELD IN CDB.
    return invalidFieldOf(ctx.def, supported.some(([p]) => p === pageCode) ? 'subpageCode' : 'pageCode');
  }
  if (pageCode === LogPageCode.SUPPORTED_LOG_PAGES) {
    // The lists have no parameters, so any PARAMETER POINTER is past the last one.
    if (parameterPointer !== 0) return invalidFieldOf(ctx.def, 'parameterPointer');
    if (subpageCode === 0) {
      // SPC-4 7.3.18: one byte per page code (page codes with subpage 00h).
      return good(listPage(0, supported.filter(([, s]) => s === 0).map(([p]) => p)));
    }
    // SPC-4 7.3.19: two bytes (page, subpage) per supported page.
    return good(listPage(SUPPORTED_SUBPAGES, supported.flatMap(([p, s]) => [p, s])));
  }
  // Page 19h and the device type's pages. Their parameters have no thresholds.
  if (pc === LogPageControl.THRESHOLD || pc === LogPageControl.DEFAULT_THRESHOLD) return invalidFieldOf(ctx.def, 'pc');
  const own = ctx.lu.logPages?.find(p => p.code === pageCode);
  const stats = pc === LogPageControl.CUMULATIVE ? ctx.lu.statistics : undefined;
  const params = own ? own.parameters(ctx.lu) : statisticsParameters(stats);
  // SPC-4 6.8: PARAMETER POINTER selects parameters with codes from it upwards; past the last
  // one is INVALID FIELD IN CDB.
  if (parameterPointer > params[params.length - 1].code) return invalidFieldOf(ctx.def, 'parameterPointer');
  // DS 1: the page's parameters cannot be saved.
  return good(logPage(pageCode, 0, true, params.filter(p => p.code >= parameterPointer)));
}

/**
 * LOG SELECT (SPC-4 6.7). PCR 1, or PC cumulative with no parameter list, resets the counters
 * (every parameter of page 19h is "Reset Only"); no parameter can be set to a value.
 */
export function spcLogSelect(ctx: ExecContext<Decoded<typeof LOG_SELECT.fields>>): Outcome {
  const { pcr, pc, pageCode, subpageCode, parameterListLength } = ctx.f;
  const stats = ctx.lu.statistics;
  if (pcr) {
    // SPC-4 6.7.1: PCR 1 with a parameter list is INVALID FIELD IN CDB.
    if (parameterListLength !== 0) return invalidFieldOf(ctx.def, 'parameterListLength');
    stats?.reset();
    return GOOD;
  }
  if (parameterListLength === 0) {
    // SPC-4 6.7.1 table 148: PAGE CODE 0 means every page; otherwise the page must exist.
    const all = pageCode === 0 && subpageCode === 0;
    if (!all && !(pageCode === LogPageCode.GENERAL_STATISTICS_AND_PERFORMANCE && subpageCode === 0 && stats)) {
      return invalidFieldOf(ctx.def, 'pageCode');
    }
    // Thresholds do not exist; cumulative values go back to their defaults (zero).
    if (pc === LogPageControl.CUMULATIVE || pc === LogPageControl.DEFAULT_CUMULATIVE) stats?.reset();
    return GOOD;
  }
  // SPC-4 6.7.1: with a parameter list, PAGE CODE and SUBPAGE CODE must be zero.
  if (pageCode !== 0 || subpageCode !== 0) return invalidFieldOf(ctx.def, 'pageCode');
  const data = ctx.dataOut ?? new Uint8Array(0);
  if (data.length < 4) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  // SPC-4 6.7.1: no log parameter of this unit can be changed: the first page of the list is
  // refused at its page code, or, for page 19h, at its first parameter code.
  const code = data[0] & 0x3f;
  const sub = data[0] & 0x40 ? data[1] : 0;
  if (code !== LogPageCode.GENERAL_STATISTICS_AND_PERFORMANCE || sub !== 0 || !stats) return invalidParamField(0, 5);
  if (data.length < 8) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  return invalidParamField(4);
}
