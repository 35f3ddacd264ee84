/**
 * A rate per client address, kept in this process's memory: a token bucket per address that
 * holds `limit` tokens and refills `limit` per `windowMs`, so an address may burst `limit` and
 * then continue at the average rate. It guards CPU that this process spends (bcrypt), which is
 * why it is per process: with N Auth replicas an address gets at most N times the limit, each
 * replica's CPU bounded by its own.
 *
 * Memory is bounded: at most `maxTracked` addresses are held, least recently seen evicted
 * first, and a bucket that has refilled completely carries no state and is dropped.
 */
import { RequestError } from '@chat/common/contracts';

export interface AddressRateLimiter {
  /** Spends one token of `address`, or throws 429 `too_many_requests` with Retry-After. */
  take(address: string): void;
  /** Addresses currently held (for tests and metrics). */
  readonly size: number;
}

export interface AddressRateLimiterOptions {
  limit: number;
  windowMs: number;
  /** Names what was limited in the 429's message, e.g. "login and registration attempts". */
  what: string;
  maxTracked?: number;
  /** Called for each refusal (the metric). */
  onRefused?: () => void;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export const tooManyRequests = (what: string, retryAfterSeconds: number) =>
  new RequestError(429, 'too_many_requests', `too many ${what} from this address; retry in ${retryAfterSeconds} s`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

export function createAddressRateLimiter(opts: AddressRateLimiterOptions): AddressRateLimiter {
  const now = opts.now ?? Date.now;
  const maxTracked = opts.maxTracked ?? 100_000;
  const perMs = opts.limit / opts.windowMs;
  // Map order is insertion order; re-inserting on every take makes the first key the least
  // recently seen.
  const buckets = new Map<string, Bucket>();

  function sweep(at: number): void {
    for (const [address, b] of buckets) {
      if (b.tokens + (at - b.at) * perMs >= opts.limit) buckets.delete(address);
    }
  }
  let lastSweep = now();

  return {
    take(address) {
      const at = now();
      if (at - lastSweep >= opts.windowMs) {
        sweep(at);
        lastSweep = at;
      }
      const held = buckets.get(address);
      const tokens = held ? Math.min(opts.limit, held.tokens + (at - held.at) * perMs) : opts.limit;
      if (tokens < 1) {
        opts.onRefused?.();
        throw tooManyRequests(opts.what, Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)));
      }
      buckets.delete(address);
      buckets.set(address, { tokens: tokens - 1, at });
      if (buckets.size > maxTracked) buckets.delete(buckets.keys().next().value!);
    },
    get size() {
      return buckets.size;
    },
  };
}
