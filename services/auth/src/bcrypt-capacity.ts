/**
 * How much bcrypt this process does at once, whoever asks: at most `maxConcurrent` hashes run
 * and at most `maxQueued` more requests wait for one. A request that would go beyond gets 503
 * `unavailable` with Retry-After at once, before any database work, instead of waiting seconds
 * behind a flood: bcrypt is deliberately slow (about 250 ms at cost 12), and without a bound a
 * few hundred unauthenticated requests would queue minutes of CPU and time every login out.
 *
 * A request reserves a place first (`reserve`, which is what may refuse), then runs its hashes
 * through it (`run`, waiting for a free hash slot), and releases it when it ends.
 */
import { RequestError } from '@chat/common/contracts';

export interface BcryptReservation {
  /** Runs `work` (one bcrypt hash or compare) when a hash slot is free. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

export interface BcryptCapacity {
  /** A place among the requests doing bcrypt, or 503 `unavailable` with Retry-After when full. */
  reserve(): BcryptReservation;
  /** Reservations held now (running or waiting). */
  readonly reserved: number;
  /** Hashes running now. */
  readonly running: number;
}

export const RETRY_AFTER_SECONDS = 1;

export const bcryptCapacityFull = () =>
  new RequestError(503, 'unavailable', 'the server is busy checking passwords; retry shortly', { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } });

export function createBcryptCapacity(opts: { maxConcurrent: number; maxQueued: number; onRefused?: () => void }): BcryptCapacity {
  let reserved = 0;
  let running = 0;
  const waiting: Array<() => void> = [];

  async function run<T>(work: () => Promise<T>): Promise<T> {
    if (running < opts.maxConcurrent) running++;
    // The slot is handed over by the finishing hash (running stays counted), so no newcomer
    // can take it in between.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  }

  return {
    reserve() {
      if (reserved >= opts.maxConcurrent + opts.maxQueued) {
        opts.onRefused?.();
        throw bcryptCapacityFull();
      }
      reserved++;
      let released = false;
      return {
        run,
        release() {
          if (released) return;
          released = true;
          reserved--;
        },
      };
    },
    get reserved() {
      return reserved;
    },
    get running() {
      return running;
    },
  };
}
