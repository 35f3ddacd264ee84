/**
 * Samples Prometheus gauges of running services on a fixed period, so a test can say how high
 * something went while a fault lasted and whether it came back (the outbox backlog, a
 * process's resident memory). A service that does not answer (killed, restarting) simply
 * leaves a hole in its series: the sampler never waits longer than one period on it.
 */
import { metricValue, type RunningService } from '@chat/testkit';

export interface Sample {
  at: number;
  value: number;
}

export interface SampledSeries {
  /** e.g. "chat chat_outbox_backlog" */
  name: string;
  /** The process to scrape now (a restarted process is a new one): its metrics port. */
  from: () => Pick<RunningService, 'metricsUrl'>;
  metric: string;
  /** Only the series with these labels, summed. */
  labels: Record<string, string>;
  samples: Sample[];
}

export class MetricSampler {
  readonly series: SampledSeries[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly periodMs: number) {}

  add(name: string, from: () => Pick<RunningService, 'metricsUrl'>, metric: string, labels: Record<string, string> = {}): SampledSeries {
    const s: SampledSeries = { name, from, metric, labels, samples: [] };
    this.series.push(s);
    return s;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The highest sample in [from, to], or undefined when the series has none there. */
  static max(series: SampledSeries, from: number, to: number): number | undefined {
    let best: number | undefined;
    for (const s of series.samples) if (s.at >= from && s.at <= to && (best === undefined || s.value > best)) best = s.value;
    return best;
  }

  /** The last sample at or before `at`. */
  static last(series: SampledSeries, at = Infinity): number | undefined {
    let found: Sample | undefined;
    for (const s of series.samples) if (s.at <= at) found = s;
    return found?.value;
  }

  private async tick(): Promise<void> {
    if (this.busy) return; // a slow scrape never piles requests up
    this.busy = true;
    try {
      await Promise.all(
        this.series.map(async (s) => {
          const at = Date.now();
          const value = await Promise.race([
            metricValue(s.from(), s.metric, s.labels).catch(() => undefined),
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), this.periodMs).unref()),
          ]);
          if (value !== undefined) s.samples.push({ at, value });
        }),
      );
    } finally {
      this.busy = false;
    }
  }
}
