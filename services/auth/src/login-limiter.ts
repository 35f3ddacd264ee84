/**
 * Brute force stays expensive, yet nobody can lock a user out. Three rules, shared by every Auth
 * replica through the database:
 *
 * 1. **Per username and client address:** at most `maxFailures` failed logins in a window that
 *    starts at the first of them; then that address gets 429 for that name until the window ends
 *    (the right password included, so a guesser learns nothing from it). Other addresses are
 *    not affected: an attacker locks only himself out.
 * 2. **Per username, from addresses it has never logged in from:** after `delayAfterFailures`
 *    such failures, each further attempt waits a delay that doubles (1 s, 2 s, 4 s ...) up to
 *    `delayMaxSeconds`. This is what slows a guesser who spreads over many addresses. It never
 *    refuses for good, and it does not apply at all to an address that logged in to the name
 *    successfully in the last `knownAddressDays`: the real user's usual addresses go through
 *    whatever an attacker does elsewhere.
 * 3. **Exact under concurrency:** every attempt claims its failure *before* the password is
 *    checked (a success gives it back), through records that change by compare-and-swap
 *    (limit-records.ts), so a burst across replicas gets exactly the allowed number of password
 *    checks, no more and no fewer. Refused attempts write nothing, so hammering while refused
 *    extends nothing.
 *
 * Stored state is bounded: one small record per (name, address) and per name with a failure in
 * the window (swept after it), and one per (user, address) that logged in within
 * `knownAddressDays`. Failures themselves are bounded by the per-address rate and the bcrypt
 * capacity that come before this in the request.
 */
import type { Collection, Db } from 'mongodb';
import { RequestError } from '@chat/common/contracts';
import { indexesOnce, isDuplicateKey } from '@chat/common/mongo';
import { createLimitRecords, LimitRecordContention, type Change } from './limit-records.js';

export interface LoginAttempt {
  /** The password was right: the failure claimed for this attempt is given back, and the address becomes known for the name. */
  succeeded(): Promise<void>;
  /** The password was wrong: the claimed failure stays. */
  failed(): Promise<void>;
}

export interface LoginLimiter {
  ensureIndexes(): Promise<void>;
  /**
   * Claims a failure for (`nameKey`, `address`) before the password is checked, or throws 429
   * `too_many_attempts` with Retry-After. `nameKey` is the canonical username key.
   */
  begin(nameKey: string, address: string): Promise<LoginAttempt>;
  /** Deletes expired records; run periodically. Returns how many. */
  prune(): Promise<number>;
}

export interface LoginLimiterOptions {
  maxFailures: number;
  windowSeconds: number;
  delayAfterFailures: number;
  delayMaxSeconds: number;
  knownAddressDays: number;
  now?: () => number;
}

/** Failures of one (name, address) in the window that started at `since`. */
interface PairValue {
  failures: number;
  since: number;
}

/** Failures on one name from unknown addresses; no attempt from them before `until`. */
interface NameValue {
  failures: number;
  lastAt: number;
  until: number;
}

interface KnownAddressDocument {
  /** `<name key>|<address>`. */
  _id: string;
  at: Date;
}

const KNOWN_REFRESH_MS = 24 * 3600_000;

const retrySeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export const tooManyAttempts = (retryAfterSeconds: number, reason: string) =>
  new RequestError(429, 'too_many_attempts', `${reason}; retry in ${retryAfterSeconds} s`, { headers: { 'retry-after': String(retryAfterSeconds) } });

const pairRefusal = (seconds: number) => tooManyAttempts(seconds, 'too many failed logins for this username from this address');
const nameRefusal = (seconds: number) => tooManyAttempts(seconds, 'this username is delayed after many failed logins');

export function createLoginLimiter(db: Db, opts: LoginLimiterOptions): LoginLimiter {
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowSeconds * 1000;
  const delayMaxMs = opts.delayMaxSeconds * 1000;
  const knownMs = opts.knownAddressDays * 24 * 3600_000;
  const records = createLimitRecords(db, 'login_limits');
  const known: Collection<KnownAddressDocument> = db.collection<KnownAddressDocument>('login_known_addresses');
  const knownIndexes = indexesOnce(known as unknown as Collection, [{ key: { at: 1 }, name: 'at' }]);
  const ensureIndexes = async () => {
    await records.ensureIndexes();
    await knownIndexes();
  };

  const livePair = (v: PairValue | undefined, at: number) => (v && at < v.since + windowMs ? v : undefined);
  const liveName = (v: NameValue | undefined, at: number) => (v && at < Math.max(v.until, v.lastAt) + windowMs ? v : undefined);
  /** The delay after the n-th failure on a name: none up to the threshold, then 1 s doubling to the cap. */
  const delayAfter = (n: number) => (n < opts.delayAfterFailures ? 0 : Math.min(delayMaxMs, 1000 * 2 ** (n - opts.delayAfterFailures)));

  const claimPair = (at: number) => (cur: PairValue | undefined): Change<PairValue, RequestError | undefined> => {
    const live = livePair(cur, at);
    if (live && live.failures >= opts.maxFailures) return { result: pairRefusal(retrySeconds(live.since + windowMs - at)) };
    // A window starts with its first failure (a success writes 0 failures).
    const since = live && live.failures > 0 ? live.since : at;
    return { write: { failures: (live?.failures ?? 0) + 1, since }, expiresAt: since + windowMs, result: undefined };
  };
  const clearPair = (at: number) => (cur: PairValue | undefined): Change<PairValue, void> =>
    cur && cur.failures > 0 ? { write: { failures: 0, since: at }, expiresAt: at + windowMs, result: undefined } : { result: undefined };
  const givePairBack = (cur: PairValue | undefined): Change<PairValue, void> =>
    cur && cur.failures > 0 ? { write: { ...cur, failures: cur.failures - 1 }, expiresAt: cur.since + windowMs, result: undefined } : { result: undefined };
  const claimName = (at: number) => (cur: NameValue | undefined): Change<NameValue, RequestError | undefined> => {
    const live = liveName(cur, at);
    if (live && at < live.until) return { result: nameRefusal(retrySeconds(live.until - at)) };
    const failures = (live?.failures ?? 0) + 1;
    const delay = delayAfter(failures);
    const until = delay > 0 ? at + delay : 0;
    return { write: { failures, lastAt: at, until }, expiresAt: Math.max(until, at) + windowMs, result: undefined };
  };
  const giveNameBack = (cur: NameValue | undefined): Change<NameValue, void> =>
    cur && cur.failures > 0
      ? { write: { ...cur, failures: cur.failures - 1 }, expiresAt: Math.max(cur.until, cur.lastAt) + windowMs, result: undefined }
      : { result: undefined };

  /**
   * After a right password: giving the claim back is worth a retry but not the login itself, so
   * a record too busy to change leaves one failure counted rather than refusing the user.
   */
  const bestEffort = (work: Promise<unknown>) =>
    work.catch((err: unknown) => {
      if (!(err instanceof LimitRecordContention)) throw err;
    });

  /** A record changed by too many at once is a burst on one name: refuse this one briefly. */
  async function guarded<R>(work: Promise<R>): Promise<R> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof LimitRecordContention) throw tooManyAttempts(1, 'too many login attempts for this username at once');
      throw err;
    }
  }

  return {
    ensureIndexes,
    async begin(nameKey, address) {
      await ensureIndexes();
      const at = now();
      const pairKey = `pair:${nameKey}|${address}`;
      const nameRecordKey = `name:${nameKey}`;
      const knownId = `${nameKey}|${address}`;
      const [pair, name, knownDoc] = await Promise.all([records.read<PairValue>(pairKey), records.read<NameValue>(nameRecordKey), known.findOne({ _id: knownId })]);
      const trusted = knownDoc !== null && knownDoc.at.getTime() > at - knownMs;

      // Refusals first, from what was read: an attempt that is refused writes nothing.
      const livePairNow = livePair(pair, at);
      if (livePairNow && livePairNow.failures >= opts.maxFailures) throw pairRefusal(retrySeconds(livePairNow.since + windowMs - at));
      const liveNameNow = trusted ? undefined : liveName(name, at);
      if (liveNameNow && at < liveNameNow.until) throw nameRefusal(retrySeconds(liveNameNow.until - at));

      // Then the claims, which decide again on the current record (another replica may have
      // claimed meanwhile).
      const pairRefused = await guarded(records.update(pairKey, claimPair(at)));
      if (pairRefused) throw pairRefused;
      if (!trusted) {
        let nameRefused: RequestError | undefined;
        try {
          nameRefused = await guarded(records.update(nameRecordKey, claimName(at)));
        } catch (err) {
          await records.update(pairKey, givePairBack).catch(() => undefined);
          throw err;
        }
        if (nameRefused) {
          await guarded(records.update(pairKey, givePairBack));
          throw nameRefused;
        }
      }

      return {
        async succeeded() {
          const refresh = !trusted || (knownDoc?.at.getTime() ?? 0) < now() - KNOWN_REFRESH_MS;
          await Promise.all([
            bestEffort(records.update(pairKey, clearPair(now()))),
            trusted ? undefined : bestEffort(records.update(nameRecordKey, giveNameBack)),
            refresh
              ? known.updateOne({ _id: knownId }, { $set: { at: new Date(now()) } }, { upsert: true }).catch((err: unknown) => {
                  // Two first logins from one address at once: the other one inserted it.
                  if (!isDuplicateKey(err)) throw err;
                })
              : undefined,
          ]);
        },
        async failed() {
          // The failure was claimed in begin().
        },
      };
    },
    async prune() {
      const at = now();
      const [swept, addresses] = await Promise.all([records.sweep(at), known.deleteMany({ at: { $lte: new Date(at - knownMs) } })]);
      return swept + addresses.deletedCount;
    },
  };
}
