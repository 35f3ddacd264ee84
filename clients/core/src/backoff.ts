/**
 * Reconnect delays: exponential from `baseMs`, capped at `capMs`, each randomised by ±`jitter`
 * (README, "How a client should reconnect"). Without jitter, every socket a drained gateway
 * closes comes back in the same instant; with it they spread over the window.
 *
 * `attempt` counts the reconnects since the connection last stayed up for `stableMs`; the
 * caller resets it then. `random` is injectable so tests can pin the draw.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Fraction of the delay, each way: 0.5 gives 50 %–150 %. */
  jitter: number;
  /** A connection that stayed up this long resets the attempt counter. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, jitter: 0.5, stableMs: 60_000 };

export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  const factor = 1 - policy.jitter + 2 * policy.jitter * random();
  return Math.round(Math.min(policy.capMs * (1 + policy.jitter), exp * factor));
}
