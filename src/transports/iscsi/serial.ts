// RFC 1982 serial number arithmetic with SERIAL_BITS = 32, as RFC 7143 4.2.2.1 requires for
// CmdSN, StatSN, DataSN and R2TSN comparisons. Values are unsigned 32-bit numbers.

const HALF = 0x80000000;

/** RFC 1982 3.1: addition is defined only for n in [0, 2^31 - 1]. */
export function serialAdd(s: number, n: number): number {
  return (s + n) >>> 0;
}

/** Signed distance b - a in serial space, in (-2^31, 2^31); 2^31 itself is undefined (returns it as negative). */
export function serialDiff(a: number, b: number): number {
  return ((b >>> 0) - (a >>> 0)) | 0;
}

/** RFC 1982 3.2: s1 < s2. Undefined pairs (exactly 2^31 apart) compare false both ways. */
export function serialLt(s1: number, s2: number): boolean {
  const a = s1 >>> 0;
  const b = s2 >>> 0;
  return (a < b && b - a < HALF) || (a > b && a - b > HALF);
}

export function serialGt(s1: number, s2: number): boolean {
  return serialLt(s2, s1);
}

export function serialLte(s1: number, s2: number): boolean {
  return (s1 >>> 0) === (s2 >>> 0) || serialLt(s1, s2);
}

export function serialGte(s1: number, s2: number): boolean {
  return (s1 >>> 0) === (s2 >>> 0) || serialGt(s1, s2);
}

/**
 * RFC 7143 4.2.2.1: a non-immediate command is acceptable when ExpCmdSN <= CmdSN <= MaxCmdSN.
 * An empty window is MaxCmdSN = ExpCmdSN - 1, which this correctly rejects everything for.
 */
export function inWindow(cmdSN: number, expCmdSN: number, maxCmdSN: number): boolean {
  return serialLte(expCmdSN, cmdSN) && serialLte(cmdSN, maxCmdSN);
}
