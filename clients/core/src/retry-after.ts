/**
 * Nothing a client does retries sooner than the server's `Retry-After`. Auth answers it with
 * every refusal of its abuse limits (429 `too_many_requests` per address, 429
 * `too_many_attempts` after failed logins, 503 `unavailable` at its bcrypt capacity), and a
 * retry before then is refused again and spends the same budget: it can only lengthen the wait.
 *
 * - `retryDelay`: the delay of an automatic retry, the backoff's or the server's, whichever is
 *   longer (Retry-After is a floor, the backoff's cap does not shorten it). The server's is
 *   jittered above its floor: a busy Chat answers every client it refuses in the same second
 *   with the same `Retry-After: 1`, and without a spread they would all come back together.
 * - `RetryAfterGate`: for a person pressing a button again (the page's login form): the wait
 *   that is left, without asking the server. A failed-login refusal holds only that username
 *   (the limit is per name and address); the address rates and the bcrypt bound hold every one.
 */
import { ApiError } from './api.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';

/** The server's Retry-After in milliseconds, when the failure carried one. */
export function retryAfterMs(err: unknown): number | undefined {
  return err instanceof ApiError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : undefined;
}

/**
 * The wait before automatic retry number `attempt` (from 0) after `err`: the backoff's, or, when
 * the server's Retry-After is longer, that plus up to `policy.jitter` of it (of the backoff's cap
 * at most): never sooner than the server asked, and spread over [n, 1.5 n] s with the default
 * policy (Retry-After: 1 gives 1–1.5 s).
 */
export function retryDelay(err: unknown, attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const backoff = backoffDelay(attempt, policy, random);
  const floor = retryAfterMs(err);
  if (floor === undefined || floor <= backoff) return backoff;
  return Math.round(floor + Math.min(floor, policy.capMs) * policy.jitter * random());
}

/** The refusals that hold only the username they were for. */
const PER_NAME: ReadonlySet<string> = new Set(['too_many_attempts']);

export class RetryAfterGate {
  private readonly holds = new Map<string, { until: number; err: ApiError }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Remembers a refusal of a login or registration for `username` that said when to come back. */
  refused(err: unknown, username: string): void {
    const ms = retryAfterMs(err);
    if (ms === undefined || !(err instanceof ApiError)) return;
    const key = PER_NAME.has(err.code) ? nameKey(username) : '';
    const until = this.now() + ms;
    if ((this.holds.get(key)?.until ?? 0) < until) this.holds.set(key, { until, err });
  }

  /**
   * The refusal still in force for `username`, its Retry-After set to the whole seconds left
   * (rounded up), or undefined when the server may be asked.
   */
  check(username: string): ApiError | undefined {
    const now = this.now();
    let longest: { until: number; err: ApiError } | undefined;
    for (const key of ['', nameKey(username)]) {
      const hold = this.holds.get(key);
      if (!hold) continue;
      if (hold.until <= now) this.holds.delete(key);
      else if (!longest || hold.until > longest.until) longest = hold;
    }
    if (!longest) return undefined;
    const { status, code, message } = longest.err;
    return new ApiError(status, code, message, Math.ceil((longest.until - now) / 1000));
  }
}

// Usernames are unique ignoring ASCII case (services/common/src/username.ts).
const nameKey = (username: string) => `name:${username.trim().toLowerCase()}`;
