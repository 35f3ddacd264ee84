import { ObjectId, type Collection, type Db } from 'mongodb';
import { RequestError } from '@chat/common/contracts';
import { indexesOnce } from '@chat/common/mongo';

interface AttemptDocument {
  _id: ObjectId;
  /** The lowercase username the attempt was for. */
  key: string;
  at: Date;
}

export interface LoginAttempt {
  /** The password was right: this username's failure history is cleared. */
  succeeded(): Promise<void>;
  /** The password was wrong: the attempt stays on record as a failure. */
  failed(): Promise<void>;
}

export interface LoginLimiter {
  ensureIndexes(): Promise<void>;
  /**
   * Registers an attempt for `key` before the password is checked, or throws 429
   * too_many_attempts with Retry-After when `maxFailures` are already on record.
   */
  begin(key: string): Promise<LoginAttempt>;
  /** Deletes records older than the window, for names nobody tries again. Returns how many. */
  prune(): Promise<number>;
}

export interface LoginLimiterOptions {
  maxFailures: number;
  windowSeconds: number;
  now?: () => number;
}

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new RequestError(429, 'too_many_attempts', `too many failed login attempts for this username; retry in ${retryAfterSeconds} s`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

/**
 * Failed logins per username, counted in MongoDB so every Auth replica sees the same count.
 *
 * Each attempt is an inserted document, recorded *before* the password is checked, and then the
 * attempts in the window are counted. An insert is atomic on every database we run on, a
 * counter updated with findAndModify/$inc is not (mongo-portability.ts, rule 1), and counting after inserting bounds the attempts
 * that get through: of k admitted attempts the last one to count sees all k, so k <= max, even
 * for a burst spread over several replicas. A refused attempt removes its own record (so
 * hammering does not extend the lockout), a failure keeps it, a success clears the name.
 *
 * There are no TTL indexes (rule 3), so records are bounded by hand: refused attempts leave nothing,
 * each failure prunes that name's expired records, and `prune()` sweeps the rest periodically.
 */
export function createLoginLimiter(db: Db, opts: LoginLimiterOptions): LoginLimiter {
  const attempts: Collection<AttemptDocument> = db.collection<AttemptDocument>('login_attempts');
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowSeconds * 1000;
  const ensureIndexes = indexesOnce(attempts, [
    // Counting a name's attempts in the window, and its pruning.
    { key: { key: 1, at: -1 }, name: 'key_at' },
    // The sweep of expired records.
    { key: { at: 1 }, name: 'at' },
  ]);

  /** Seconds until the max-th most recent attempt leaves the window, when one slot frees up. */
  async function retryAfterSeconds(key: string, windowStart: Date, at: number): Promise<number> {
    const [blocking] = await attempts
      .find({ key, at: { $gt: windowStart } }, { projection: { at: 1 } })
      .sort({ at: -1 })
      .skip(opts.maxFailures - 1)
      .limit(1)
      .toArray();
    if (!blocking) return 1;
    return Math.max(1, Math.ceil((blocking.at.getTime() + windowMs - at) / 1000));
  }

  return {
    ensureIndexes,
    async begin(key) {
      await ensureIndexes();
      const at = now();
      const windowStart = new Date(at - windowMs);
      const _id = new ObjectId();
      await attempts.insertOne({ _id, key, at: new Date(at) });
      const inWindow = await attempts.countDocuments({ key, at: { $gt: windowStart } });
      if (inWindow > opts.maxFailures) {
        await attempts.deleteOne({ _id });
        throw tooManyAttempts(await retryAfterSeconds(key, windowStart, at));
      }
      return {
        async succeeded() {
          await attempts.deleteMany({ key });
        },
        async failed() {
          await attempts.deleteMany({ key, at: { $lte: new Date(now() - windowMs) } });
        },
      };
    },
    async prune() {
      const { deletedCount } = await attempts.deleteMany({ at: { $lte: new Date(now() - windowMs) } });
      return deletedCount;
    },
  };
}
