/**
 * One scrape of a service's /metrics, read many ways. Several figures must come from the same
 * scrape: every scrape resets some of them (prom-client's event-loop lag maximum is measured
 * since the previous collection), and counters compared with each other must be of one moment.
 * MetricSampler (one scrape per series) suits gauges read alone; this suits the rest.
 */
import { request, type RunningService } from '@chat/testkit';

export class MetricsSnapshot {
  constructor(
    readonly at: number,
    private readonly lines: ReadonlyArray<{ name: string; labels: Record<string, string>; value: number }>,
  ) {}

  static parse(text: string, at = Date.now()): MetricsSnapshot {
    const lines: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      lines.push({ name: m[1]!, labels, value: Number(m[3]) });
    }
    return new MetricsSnapshot(at, lines);
  }

  /** The sum over the series of `name` whose labels include `labels`; NaN when there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    let sum = NaN;
    for (const l of this.lines) if (l.name === name && Object.entries(labels).every(([k, v]) => l.labels[k] === v)) sum = (Number.isNaN(sum) ? 0 : sum) + l.value;
    return sum;
  }
}

/** A scrape of `from`'s /metrics (on its METRICS_PORT); undefined when it does not answer. */
export async function scrape(from: Pick<RunningService, 'metricsUrl'>): Promise<MetricsSnapshot | undefined> {
  const res = await request(`${from.metricsUrl}/metrics`).catch(() => undefined);
  return res?.status === 200 ? MetricsSnapshot.parse(res.text) : undefined;
}
