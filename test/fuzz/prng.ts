// Seeded pseudo-random numbers for the fuzz tests (mulberry32): the same seed gives the same
// inputs, so a failure reproduces with NEXUS_FUZZ_SEED=<seed printed in the failure message>.

export const DEFAULT_FUZZ_SEED = 0x6e657875; // "nexu"

/** The seed from NEXUS_FUZZ_SEED (decimal or 0x hex), else the fixed default. */
export function fuzzSeed(): number {
  const s = process.env.NEXUS_FUZZ_SEED;
  if (s === undefined || s.trim() === '') return DEFAULT_FUZZ_SEED;
  const n = s.trim().startsWith('0x') ? parseInt(s.trim().slice(2), 16) : Number(s.trim());
  if (!Number.isFinite(n)) throw new Error(`NEXUS_FUZZ_SEED is not a number: ${s}`);
  return n >>> 0;
}

export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** Pick by weight: [[weight, value], ...]. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of xs) total += w;
    let r = this.int(total);
    for (const [w, v] of xs) {
      if (r < w) return v;
      r -= w;
    }
    return xs[xs.length - 1][1];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  /** A value that is often at an edge: 0, 1, all ones, a power of two, or random. */
  edgyU32(): number {
    switch (this.int(8)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return 0xffffffff;
      case 3: return (1 << this.int(32)) >>> 0;
      case 4: return ((1 << this.int(32)) - 1) >>> 0;
      case 5: return this.int(4096);
      default: return this.u32();
    }
  }

  /** A fork with its own stream, so one consumer's draws do not shift another's. */
  fork(): Prng {
    return new Prng(this.u32());
  }
}
