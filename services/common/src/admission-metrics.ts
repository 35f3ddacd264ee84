import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { Admission, type AdmissionOptions, type AdmissionShedReason } from './admission.js';

/** Every reason, in the order the metric's series are created (each starts at 0). */
export const ADMISSION_SHED_REASONS: readonly AdmissionShedReason[] = ['queue_full', 'wait_budget', 'deadline', 'draining'];

/**
 * An Admission with its metrics, `<prefix>_admission_*`: the gauges are read at scrape (nothing
 * per request), the shed counter and the wait histogram move per refusal and per admission
 * that had to wait (an admission at once records nothing: the histogram shows queueing only
 * when there is some, and its count is the number of requests that waited).
 */
export function createMeasuredAdmission(registry: Registry, prefix: string, opts: Omit<AdmissionOptions, 'observer'>): Admission {
  const shed = new Counter({
    name: `${prefix}_admission_shed_total`,
    help: 'Requests refused with 503 by admission control, by reason (queue_full: at arrival; wait_budget: waited ADMISSION_MAX_WAIT_MS; deadline: a retry-safe request still running after ADMISSION_ANSWER_WITHIN_MS, its work going on; draining: shutting down)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ADMISSION_SHED_REASONS) shed.inc({ reason }, 0);
  const waited = new Histogram({
    name: `${prefix}_admission_wait_seconds`,
    help: 'Time admitted requests waited for a slot (requests admitted at once are not counted)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const admission = new Admission({
    ...opts,
    observer: {
      admitted: (waitedMs) => waitedMs > 0 && waited.observe(waitedMs / 1000),
      shed: (reason) => shed.inc({ reason }),
    },
  });
  new Gauge({
    name: `${prefix}_admission_in_flight`,
    help: 'Requests doing database work now (at most ADMISSION_MAX_IN_FLIGHT)',
    registers: [registry],
    collect() {
      this.set(admission.inFlight);
    },
  });
  new Gauge({
    name: `${prefix}_admission_queued`,
    help: 'Requests waiting for an admission slot now',
    registers: [registry],
    collect() {
      this.set(admission.queued);
    },
  });
  new Gauge({
    name: `${prefix}_admission_limit`,
    help: 'ADMISSION_MAX_IN_FLIGHT: the most requests doing database work at once',
    registers: [registry],
    collect() {
      this.set(admission.maxInFlight);
    },
  });
  return admission;
}
