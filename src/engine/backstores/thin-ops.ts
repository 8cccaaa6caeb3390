/**
 * Hole punching and hole finding for file backstores. Node has no fallocate(2) or SEEK_DATA /
 * SEEK_HOLE, so these come from the native addon (src/native) when it is built. When it is not,
 * `FALLBACK_THIN_OPS` keeps UNMAP correct but not thin: it writes zeros instead of punching, and
 * reports every byte as mapped.
 */

/** A system call's failure as a value, as the addon returns it. */
export interface ErrnoValue { errno: string; message?: string }

export interface ThinOps {
  /** true for the addon, false for the zero-writing fallback. */
  readonly native: boolean;
  /** fallocate(PUNCH_HOLE | KEEP_SIZE). */
  punchHole(fd: number, offset: number, length: number): undefined | ErrnoValue;
  /** lseek(SEEK_DATA): next data offset at or after `offset`; null when none before EOF. */
  seekData(fd: number, offset: number): number | null | ErrnoValue;
  /** lseek(SEEK_HOLE): next hole offset at or after `offset` (EOF counts as a hole). */
  seekHole(fd: number, offset: number): number | null | ErrnoValue;
}

export function isErrnoValue(v: unknown): v is ErrnoValue {
  return typeof v === 'object' && v !== null && typeof (v as { errno?: unknown }).errno === 'string';
}

interface AddonShape {
  available?: unknown;
  punchHole?: unknown;
  seekData?: unknown;
  seekHole?: unknown;
}

let cached: ThinOps | null | undefined;

/** The addon's thin-provisioning calls, or null when the addon is not built. Loaded once. */
export function nativeThinOps(): ThinOps | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const m = require('../../native') as AddonShape;
    if (m.available === true && typeof m.punchHole === 'function'
      && typeof m.seekData === 'function' && typeof m.seekHole === 'function') {
      const punch = m.punchHole as ThinOps['punchHole'];
      const sd = m.seekData as ThinOps['seekData'];
      const sh = m.seekHole as ThinOps['seekHole'];
      cached = {
        native: true,
        punchHole: (fd, off, len) => punch(fd, off, len),
        seekData: (fd, off) => sd(fd, off),
        seekHole: (fd, off) => sh(fd, off),
      };
    }
  } catch {
    // Addon wrapper absent or failed to load: the fallback below applies.
  }
  return cached;
}

/**
 * FALLBACK (no addon): the file backstore sees `native: false` and, instead of punching a hole,
 * writes zeros over the range (reads then return zeros, as LBPRZ promises) and reports the whole
 * file as mapped. Correct, but it allocates instead of freeing.
 */
export const FALLBACK_THIN_OPS: ThinOps = Object.freeze({
  native: false,
  punchHole: () => ({ errno: 'EOPNOTSUPP', message: 'no native addon: caller writes zeros' }),
  seekData: (_fd: number, offset: number) => offset,
  seekHole: () => null,
});
