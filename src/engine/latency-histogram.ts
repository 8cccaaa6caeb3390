// Command latency histograms by transfer size, as SCST's measure_latency keeps them: one latency
// histogram per transfer-size class, so that a 4 KiB read and a 1 MiB write are not averaged
// into one figure (DESIGN.md §8a). Counting is a compare loop and an increment into a flat array
// made once (DESIGN.md §10: nothing allocated per command); readers take copies on demand.

/**
 * Upper bounds (inclusive, microseconds) of the latency buckets; a last bucket takes everything
 * slower. Fixed, so the control plane and Prometheus read them as they are.
 */
export const LATENCY_BOUNDS_US: readonly number[] = [
  25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
];
const LATENCY_BOUNDS_NS: readonly number[] = LATENCY_BOUNDS_US.map(us => us * 1000);

/**
 * Upper bounds (inclusive, bytes) of the transfer-size classes, SCST's latency statistics
 * thresholds (small ≤ 8 KiB, medium ≤ 32 KiB, large ≤ 128 KiB, very large ≤ 512 KiB); a last
 * class takes larger transfers. A command without data is in the first class.
 */
export const TRANSFER_SIZE_BOUNDS_BYTES: readonly number[] = [8192, 32768, 131072, 524288];

/** Buckets per size class: one per latency bound, one more for the slower ones. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_US.length + 1;
/** Size classes: one per size bound, one more for the larger transfers. */
export const SIZE_CLASSES = TRANSFER_SIZE_BOUNDS_BYTES.length + 1;

export class LatencyHistogram {
  /** Commands by size class and latency: index sizeClass * LATENCY_BUCKETS + latency bucket. */
  readonly buckets: number[] = new Array<number>(SIZE_CLASSES * LATENCY_BUCKETS).fill(0);
  /** Latency summed per size class, in nanoseconds. */
  readonly sumNs: number[] = new Array<number>(SIZE_CLASSES).fill(0);

  /** A command moving `bytes` took `elapsedNs`. */
  record(elapsedNs: number, bytes: number): void {
    let s = 0;
    while (s < TRANSFER_SIZE_BOUNDS_BYTES.length && bytes > TRANSFER_SIZE_BOUNDS_BYTES[s]) s++;
    let i = 0;
    while (i < LATENCY_BOUNDS_NS.length && elapsedNs > LATENCY_BOUNDS_NS[i]) i++;
    this.buckets[s * LATENCY_BUCKETS + i]++;
    this.sumNs[s] += elapsedNs;
  }
}

/** One size class of a histogram as the control socket shows it. */
export interface LatencyBySizeView {
  /** Largest transfer of the class in bytes; null for the last class (larger transfers). */
  readonly maxBytes: number | null;
  readonly buckets: readonly number[];
  readonly sumNs: number;
}

/** A histogram as stats.get shows it: all sizes together, then per size class. */
export interface LatencyView {
  readonly boundsUs: readonly number[];
  /** Commands per latency bucket, every size together (one more bucket than the bounds). */
  readonly buckets: readonly number[];
  readonly sumNs: number;
  readonly bySize: readonly LatencyBySizeView[];
}

/** The view of flat `buckets` and per-class `sumNs` (as LatencyHistogram holds them). */
export function latencyView(buckets: readonly number[], sumNs: readonly number[]): LatencyView {
  const all = new Array<number>(LATENCY_BUCKETS).fill(0);
  const bySize: LatencyBySizeView[] = [];
  for (let s = 0; s < SIZE_CLASSES; s++) {
    const row = buckets.slice(s * LATENCY_BUCKETS, (s + 1) * LATENCY_BUCKETS);
    row.forEach((n, i) => { all[i] += n; });
    bySize.push({ maxBytes: TRANSFER_SIZE_BOUNDS_BYTES[s] ?? null, buckets: row, sumNs: sumNs[s] ?? 0 });
  }
  return { boundsUs: LATENCY_BOUNDS_US, buckets: all, sumNs: sumNs.reduce((a, b) => a + b, 0), bySize };
}
