// Logins per second per source address (the `maxLoginsPerSecond` setting): a token bucket per
// address, refilled continuously, as deep as one second's allowance. A connection accepted when
// its address's bucket is empty gets its login refused with Status-Class 3, detail 2 (out of
// resources, RFC 7143 11.13.5): a login loop from one host is slowed to the allowance and cannot
// spend the listener's thread on login work (CHAP digests, session set-up) beyond it.

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (performance.now() ms). */
  at: number;
}

/** Addresses remembered before full buckets (which hold nothing) are forgotten. */
const SWEEP_AT = 4096;

export class LoginRate {
  private readonly buckets = new Map<string, Bucket>();
  /** The next sweep is due at this many addresses (doubling keeps sweeps amortized O(1)). */
  private sweepAt = SWEEP_AT;

  /** Addresses remembered. */
  get size(): number { return this.buckets.size; }

  constructor(private readonly perSecond: number, private readonly now: () => number = () => performance.now()) {}

  /** Takes one login from `address`'s allowance; false when it has none left this second. */
  admit(address: string): boolean {
    const t = this.now();
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= this.sweepAt) this.sweep(t);
      b = { tokens: this.perSecond, at: t };
      this.buckets.set(address, b);
    } else {
      b.tokens = Math.min(this.perSecond, b.tokens + ((t - b.at) / 1000) * this.perSecond);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private sweep(t: number): void {
    for (const [a, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.perSecond) this.buckets.delete(a);
    }
    this.sweepAt = Math.max(SWEEP_AT, this.buckets.size * 2);
  }
}
