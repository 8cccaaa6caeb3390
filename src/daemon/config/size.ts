import { NexusError } from '../../engine/result';

/**
 * Capacities written the way storage people write them: "512MiB", "1TiB", "1GB", "4096".
 *
 * Binary units (KiB … EiB, and the bare K/M/G/T/P/E that dd, qemu-img and SCST's own sysfs accept)
 * are powers of 1024; SI units (kB/KB … EB) are powers of 1000 (IEC 80000-13). A plain integer is
 * bytes. A decimal fraction is accepted only when it lands on a whole byte ("1.5KiB" = 1536).
 */

export type SizeParse = { ok: true; bytes: bigint } | { ok: false; message: string };

const KI = 1024n;
const K = 1000n;

/** Unit suffix (lower-cased) → multiplier. */
const UNITS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  ['', 1n], ['b', 1n],
  ['k', KI], ['m', KI ** 2n], ['g', KI ** 3n], ['t', KI ** 4n], ['p', KI ** 5n], ['e', KI ** 6n],
  ['kib', KI], ['mib', KI ** 2n], ['gib', KI ** 3n], ['tib', KI ** 4n], ['pib', KI ** 5n], ['eib', KI ** 6n],
  ['kb', K], ['mb', K ** 2n], ['gb', K ** 3n], ['tb', K ** 4n], ['pb', K ** 5n], ['eb', K ** 6n],
]);

const SIZE_RE = /^\s*(\d+)(?:\.(\d+))?\s*([A-Za-z]*)\s*$/;

/** Largest capacity a 64-bit LBA of 512-byte blocks can address (SBC-4 READ CAPACITY(16)). */
export const MAX_SIZE_BYTES = (1n << 64n) * 512n - 1n;

export function tryParseSize(input: string | number | bigint): SizeParse {
  if (typeof input === 'bigint') {
    return input >= 0n ? { ok: true, bytes: input } : { ok: false, message: 'size must not be negative' };
  }
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      return { ok: false, message: `size ${input} is not a whole number of bytes (use a string such as "1TiB" for large sizes)` };
    }
    return { ok: true, bytes: BigInt(input) };
  }
  const m = SIZE_RE.exec(input);
  if (m === null) {
    return { ok: false, message: `"${input}" is not a size; write e.g. "512MiB", "1TiB", "1GB" or a number of bytes` };
  }
  const [, whole, frac = '', unitText] = m;
  const unit = UNITS.get(unitText.toLowerCase());
  if (unit === undefined) {
    return { ok: false, message: `"${input}" has an unknown unit "${unitText}"; use B, KiB, MiB, GiB, TiB, PiB, KB, MB, GB, TB or K, M, G, T` };
  }
  const scale = 10n ** BigInt(frac.length);
  const scaled = (BigInt(whole) * scale + BigInt(frac === '' ? '0' : frac)) * unit;
  if (scaled % scale !== 0n) {
    return { ok: false, message: `"${input}" is not a whole number of bytes` };
  }
  const bytes = scaled / scale;
  if (bytes > MAX_SIZE_BYTES) {
    return { ok: false, message: `"${input}" is larger than a SCSI disk can address` };
  }
  return { ok: true, bytes };
}

/**
 * Parse a size known to be well-formed (a constant, or a value already validated by the topology
 * loader). A malformed size here is a programming error and throws with code ERR_SIZE.
 */
export function parseSize(input: string | number | bigint): bigint {
  const r = tryParseSize(input);
  if (!r.ok) throw new NexusError('ERR_SIZE', r.message);
  return r.bytes;
}

/** The shortest exact binary spelling of a byte count: 1073741824n → "1GiB", 1000n → "1000B". */
export function formatSize(bytes: bigint): string {
  const names = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (i < names.length - 1 && v !== 0n && v % KI === 0n) {
    v /= KI;
    i++;
  }
  return `${v}${names[i]}`;
}
