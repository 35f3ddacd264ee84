/**
 * Small shared records (a failure count, a delay) that several Auth processes change
 * concurrently, with no lost update: each change inserts the record's next version, and the
 * unique `_id` (`<key>#<version>`) lets exactly one writer of a version succeed. A writer that
 * loses reads the record again and reapplies its change. This is the compare-and-swap that the
 * local database's findAndModify cannot give (mongo-portability.ts, rule 1: unique indexes are
 * the only guard); on MongoDB 7 it is just as exact.
 *
 * Readers take the highest version. A superseded version is deleted only once it is older than
 * a grace that no writer takes between its read and its insert (requests time out long before):
 * deleting it sooner would free its `_id` for a writer still acting on the version before, whose
 * insert would then succeed and overwrite a newer value (measured: 40 concurrent increments lost
 * 8 of them when versions were deleted at once). For the same reason a record is never reset by
 * deleting it, only by writing a new version. Nothing expires by itself (no TTL indexes, rule 3):
 * `sweep` deletes records whose `expiresAt` has passed by the grace; `expiresAt` never decreases
 * from one version to the next, so a sweep never leaves an older version behind as the current.
 */
import type { Collection, Db } from 'mongodb';
import { indexesOnce, isDuplicateKey } from '@chat/common/mongo';

interface RecordDocument<V> {
  _id: string;
  key: string;
  version: number;
  value: V;
  expiresAt: Date;
  /** When this version was written (the grace before a superseded version may go). */
  writtenAt: Date;
}

/** What a change decides, from the current value (undefined: no record). */
export type Change<V, R> = { write: V; expiresAt: number; result: R } | { result: R };

export interface LimitRecords {
  ensureIndexes(): Promise<void>;
  read<V>(key: string): Promise<V | undefined>;
  /**
   * Applies `change` to the current value until its write wins (or it writes nothing), and
   * returns its result. Throws {@link LimitRecordContention} after `maxTries` lost races.
   */
  update<V, R>(key: string, change: (current: V | undefined) => Change<V, R>): Promise<R>;
  /** Deletes records that expired more than the grace ago. Returns how many. */
  sweep(now: number): Promise<number>;
}

/** Too many writers changed one record at once; the caller answers "try again". */
export class LimitRecordContention extends Error {
  constructor(key: string) {
    super(`record ${key} changed by too many writers at once`);
    this.name = 'LimitRecordContention';
  }
}

/** Longer than any request holds a read before writing (requests time out well before). */
export const SWEEP_GRACE_MS = 60_000;

export function createLimitRecords(db: Db, collectionName: string, opts: { maxTries?: number; graceMs?: number } = {}): LimitRecords {
  const graceMs = opts.graceMs ?? SWEEP_GRACE_MS;
  const records: Collection<RecordDocument<unknown>> = db.collection<RecordDocument<unknown>>(collectionName);
  const maxTries = opts.maxTries ?? 40;
  const ensureIndexes = indexesOnce(records, [
    // Reading a record (equality on one selective field, rule 2) and removing it.
    { key: { key: 1, version: -1 }, name: 'key_version' },
    // The sweep.
    { key: { expiresAt: 1 }, name: 'expiresAt' },
  ]);

  async function current<V>(key: string): Promise<RecordDocument<V> | undefined> {
    const [doc] = await records.find({ key }).sort({ version: -1 }).limit(1).toArray();
    return doc as RecordDocument<V> | undefined;
  }

  return {
    ensureIndexes,
    async read<V>(key: string) {
      await ensureIndexes();
      return (await current<V>(key))?.value;
    },
    async update<V, R>(key: string, change: (current: V | undefined) => Change<V, R>) {
      await ensureIndexes();
      for (let tries = 0; tries < maxTries; tries++) {
        const doc = await current<V>(key);
        const decided = change(doc?.value);
        if (!('write' in decided)) return decided.result;
        const version = (doc?.version ?? 0) + 1;
        const expiresAt = new Date(Math.max(decided.expiresAt, doc?.expiresAt.getTime() ?? 0));
        try {
          await records.insertOne({ _id: `${key}#${version}`, key, version, value: decided.write, expiresAt, writtenAt: new Date() });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          // Another writer got this version first: read again, with a little jitter so a burst
          // on one record does not retry in lockstep.
          await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
          continue;
        }
        // Superseded versions past the grace are garbage; best effort, the sweep gets the rest.
        void records.deleteMany({ key, version: { $lt: version }, writtenAt: { $lte: new Date(Date.now() - graceMs) } }).catch(() => undefined);
        return decided.result;
      }
      throw new LimitRecordContention(key);
    },
    async sweep(now) {
      const { deletedCount } = await records.deleteMany({ expiresAt: { $lte: new Date(now - graceMs) } });
      return deletedCount;
    },
  };
}
