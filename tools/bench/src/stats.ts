/**
 * Latency statistics that can be merged across processes: a log-bucketed histogram (2 %
 * relative precision from 10 µs to about 2 minutes), so each load-generator child keeps a
 * fixed-size array however many frames it sees, and the parent adds the arrays together.
 */

const MIN_MS = 0.01;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
export const BUCKETS = 830; // MIN_MS * GROWTH^829 ≈ 130 s

/** Bucket i holds values in (upper(i-1), upper(i)]; bucket 0 holds everything up to MIN_MS. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

export function bucketUpperMs(i: number): number {
  return MIN_MS * GROWTH ** i;
}

export interface HistogramSnapshot {
  counts: number[];
  count: number;
  sum: number;
  max: number;
  /** Values below zero (a frame seen before the clock said it was sent: clock skew or reordering). */
  negative: number;
}

export class LatencyHistogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;
  negative = 0;

  record(ms: number): void {
    if (ms < 0) {
      this.negative++;
      ms = 0;
    }
    this.counts[bucketOf(ms)]!++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.negative = 0;
  }

  /** Sparse-friendly snapshot for IPC (plain array; zeros compress fine in JSON). */
  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), count: this.count, sum: this.sum, max: this.max, negative: this.negative };
  }

  merge(s: HistogramSnapshot): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += s.counts[i] ?? 0;
    this.count += s.count;
    this.sum += s.sum;
    this.max = Math.max(this.max, s.max);
    this.negative += s.negative;
  }

  /** The p-th percentile (0..100), as the upper edge of its bucket: never optimistic by more than 2 %. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperMs(i), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  static from(snapshots: HistogramSnapshot[]): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const s of snapshots) h.merge(s);
    return h;
  }
}

/** Exact nearest-rank percentile of raw samples (for small sample sets such as send latencies). */
export function percentileOf(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Least-squares slope of y over x (e.g. RSS bytes per socket across capacity steps). */
export function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Rounds for display: 3 significant digits, no exponent notation. */
export function round3(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return Number(v.toFixed(Math.min(digits, 6)));
}
