/**
 * Prometheus text exposition, as far as the benchmark reads it: one histogram series (buckets,
 * sum, count) or counter picked by its labels, and what a window of requests added to it (two
 * scrapes).
 */

export interface HistogramReading {
  /** Cumulative counts per upper bound, ascending (`+Inf` last). */
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** Labels of a sample line: `{a="x",b="y \"q\""}` → { a: 'x', b: 'y "q"' }. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
  return out;
}

/**
 * The histogram `name` restricted to the series whose labels include `match` (summed over the
 * other labels, e.g. several routes when only status is matched); undefined when /metrics has no
 * such series at all.
 */
export function readHistogram(text: string, name: string, match: Record<string, string>): HistogramReading | undefined {
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = parseLabels(m[2] ?? '');
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
    const value = Number(m[3]);
    if (m[1] === `${name}_bucket` && labels.le !== undefined) {
      const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
      seen = true;
    } else if (m[1] === `${name}_sum`) {
      sum += value;
      seen = true;
    } else if (m[1] === `${name}_count`) {
      count += value;
      seen = true;
    }
  }
  if (!seen) return undefined;
  return { buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([le, c]) => ({ le, count: c })), sum, count };
}

export interface HistogramWindow {
  /** Observations in the window. */
  count: number;
  /** Δsum / Δcount. */
  mean: number;
  /** The smallest bucket bound holding every observation of the window (an upper bound on the max). */
  maxLe: number;
}

/** What happened between two readings of the same series; undefined when nothing was observed. */
export function histogramWindow(before: HistogramReading | undefined, after: HistogramReading): HistogramWindow | undefined {
  const count = after.count - (before?.count ?? 0);
  if (count <= 0) return undefined;
  const sum = after.sum - (before?.sum ?? 0);
  const prior = new Map((before?.buckets ?? []).map((b) => [b.le, b.count]));
  const holding = after.buckets.find((b) => b.count - (prior.get(b.le) ?? 0) >= count);
  return { count, mean: sum / count, maxLe: holding?.le ?? Number.POSITIVE_INFINITY };
}

/**
 * The counter (or gauge) `name` summed over the series whose labels include `match`; undefined when
 * /metrics has no such series at all (a labelled counter appears on first use).
 */
export function readCounter(text: string, name: string, match: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = parseLabels(m[2] ?? '');
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
    total = (total ?? 0) + Number(m[3]);
  }
  return total;
}
