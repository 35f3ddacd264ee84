/**
 * The one place the attack suite reads a service's Prometheus metrics: from the service's own
 * metrics port (RunningService.metricsUrl), never its public one, which answers 404 there.
 */
import { metricValue, type RunningService } from '@chat/testkit';

export function metricsOf(svc: RunningService) {
  return {
    /** A metric summed over the series whose labels include `labels`. */
    value: (name: string, labels: Record<string, string> = {}) => metricValue(svc, name, labels),
  };
}
