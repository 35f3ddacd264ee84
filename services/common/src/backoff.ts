/**
 * Invariant: work that is not a client's request (the outbox relay's scan and marks, the
 * last-seen writes, the gateway's replay reads) waits longer after each failure or slow answer,
 * up to a cap, each wait drawn at random around its nominal value, and is back at its normal
 * pace after the first quick success.
 *
 * Why: a fixed retry interval keeps a struggling database (or Chat) exactly as busy as before,
 * and every pod retrying on the same tick turns a recovery into a burst (issue 17: FerretDB
 * stayed at 1.8 cores for minutes under retries). Exponential growth takes the pressure off;
 * jitter spreads the pods' retries over the window.
 *
 * The same curve as the clients' reconnect delays (clients/core/src/backoff.ts): exponential
 * from `baseMs`, capped at `capMs`, each delay multiplied by a factor in [1 - jitter, 1 + jitter].
 * `random` is injectable so a test can pin the draw.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Fraction of the delay, each way: 0.5 gives 50 %–150 %. */
  jitter: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(nominal * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/** The consecutive failures of one background task, and the wait each one implies. */
export class Backoff {
  private failures = 0;

  constructor(
    readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive failures (or slow answers) since the last quick success. */
  get streak(): number {
    return this.failures;
  }

  /** Records a failure or a slow answer; returns how long to wait before the next try. */
  failed(): number {
    return backoffDelay(this.failures++, this.policy, this.random);
  }

  /** A quick success: the next failure starts from `baseMs` again. */
  succeeded(): void {
    this.failures = 0;
  }
}
