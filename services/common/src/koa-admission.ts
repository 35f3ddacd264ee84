import type { Middleware, ParameterizedContext } from 'koa';
import { AdmissionRefusedError, type Admission, type ReleaseSlot } from './admission.js';
import { env } from './env-config.js';
import { RequestError } from './errors.js';

/**
 * ADMISSION_MAX_IN_FLIGHT and ADMISSION_MAX_WAIT_MS for a service whose default bound is
 * `maxInFlightDefault`. The bound is per process: N replicas put at most N × it on the database.
 * The wait budget bounds what a shed request costs its client, and adds to what an admitted one
 * takes under overload: at 1,646 sends/s on the local default (tests/system/overload), 150 ms
 * gave 852 × 201/s with the slowest answer 850 ms, 250 ms gave 825/s and 746–1,191 ms (Chat 64
 * in flight; 32 in flight with 250 ms cut the 201s to 542/s for no better tail).
 */
export function admissionConfigSpec(maxInFlightDefault: number) {
  return {
    ADMISSION_MAX_IN_FLIGHT: env.int({ default: maxInFlightDefault, min: 1, max: 10_000, doc: 'requests doing database work at once in this process; more wait for a slot' }),
    ADMISSION_MAX_WAIT_MS: env.int({ default: 150, min: 0, max: 10_000, doc: 'the longest a request waits for a slot before it gets 503 with Retry-After' }),
  };
}

/** What a refused client is told to wait: a slot frees within the wait budget, a restarted pod within about a second. */
export const ADMISSION_RETRY_AFTER_SECONDS = 1;

/** The answer to a refused request: 503 `unavailable` with Retry-After (and, while draining, Connection: close, so the client reconnects elsewhere). */
export function admissionRefusal(err: AdmissionRefusedError): RequestError {
  const headers: Record<string, string> = { 'Retry-After': String(ADMISSION_RETRY_AFTER_SECONDS) };
  if (err.reason === 'draining') headers.Connection = 'close';
  return new RequestError(503, 'unavailable', err.message, { headers });
}

export interface KoaAdmissionOptions {
  /**
   * ADMISSION_ANSWER_WITHIN_MS: a request that `retrySafe` accepts and that is still running this
   * long after it arrived (its wait included) is answered 503 `unavailable` with Retry-After,
   * while its work goes on and keeps its slot (admission.ts, "Deadline"). 0 or absent: never.
   */
  answerWithinMs?: number;
  /** Whether a client may repeat this request harmlessly: a read, or a write with an idempotency key. */
  retrySafe?: (ctx: ParameterizedContext) => boolean;
}

/**
 * Admission for database-backed routes (admission.ts): run after the token check, so a bad
 * token is a 401 whatever the load, and before any database work. A refused request answers
 * 503 at once; an admitted one holds its slot until its handler is done, also when its answer
 * was a refusal (the answer deadline, a drain ending it before the database client closes).
 */
export function koaAdmission(admission: Admission, opts: KoaAdmissionOptions = {}): Middleware {
  return async (ctx, next) => {
    const arrivedAt = performance.now();
    let release: ReleaseSlot;
    try {
      release = await admission.acquire();
    } catch (err) {
      throw err instanceof AdmissionRefusedError ? admissionRefusal(err) : err;
    }
    const work = next();
    void work.then(release, release);
    const answerWithin = opts.answerWithinMs && opts.retrySafe?.(ctx) ? opts.answerWithinMs - (performance.now() - arrivedAt) : undefined;
    try {
      await admission.track(work, answerWithin);
    } catch (err) {
      throw err instanceof AdmissionRefusedError ? admissionRefusal(err) : err;
    }
  };
}
