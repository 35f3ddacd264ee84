/**
 * The one place the attack suite reads a service's Prometheus metrics. Every service serves
 * `/metrics` on its own port today; should one move it to a port of its own, `metricsUrlOf`
 * is what changes.
 */
import { metricValue, type RunningService } from '@chat/testkit';

export function metricsUrlOf(svc: RunningService): string {
  return svc.url;
}

export function metricsOf(svc: RunningService) {
  return {
    /** A metric summed over the series whose labels include `labels`. */
    value: (name: string, labels: Record<string, string> = {}) => metricValue(metricsUrlOf(svc), name, labels),
  };
}
