import type { Middleware } from 'koa';
import { AdmissionRefusedError, type Admission } from './admission.js';
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

/**
 * Admission for database-backed routes (admission.ts): run after the token check, so a bad
 * token is a 401 whatever the load, and before any database work. A refused request answers
 * 503 at once; an admitted one holds its slot until its handler is done, and a drain can end
 * it with the same 503 before the database client closes.
 */
export function koaAdmission(admission: Admission): Middleware {
  return async (_ctx, next) => {
    let release;
    try {
      release = await admission.acquire();
    } catch (err) {
      throw err instanceof AdmissionRefusedError ? admissionRefusal(err) : err;
    }
    try {
      await admission.track(next());
    } catch (err) {
      throw err instanceof AdmissionRefusedError ? admissionRefusal(err) : err;
    } finally {
      release();
    }
  };
}
