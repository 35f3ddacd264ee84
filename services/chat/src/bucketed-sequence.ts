import type { Collection, Document } from 'mongodb';
import { LRUCache } from 'lru-cache';
import { unavailable } from '@chat/common/contracts';
import { BUCKET_SIZE, bucketKey, bucketOf, InsertBatcher, isDuplicateKey, type DatabaseOutage, type IndexSpec } from '@chat/common/mongo';
import { KeyedSerializer } from './keyed-serializer.js';

/**
 * A gap-free, ordered sequence of documents per key: a user's timeline, a conversation's
 * messages. Position N+1 is only ever inserted after N was visible to the inserter, so the
 * stored positions of a key are always 1..last, and a reader that has seen N+1 can never later
 * find a new N.
 *
 * - **Allocation** is "a position known to exist, plus one", and a unique index
 *   ({@link sequenceIndex}) decides who gets it: no transaction, no counter (see mongo-portability.ts, rule 1). "Known
 *   to exist" is the last position this process appended or saw (cached), else {@link last}.
 *   A refused insert means either our own document is there already (a retry: the caller's
 *   `existing` finds it) or another replica took the position, which proves it exists, so the
 *   next one is a valid try; after a few such probes the last position is searched again.
 * - **Reads never read the whole sequence.** Each document carries `bucket`, the key plus
 *   position ÷ {@link BUCKET_SIZE}, and every read is equality on it (rule 2): a page is one
 *   read per bucket it spans, done in parallel (a page after a position reads its first
 *   bucket alone first, and the others only when that one is full to its end), and the last position is a galloping search
 *   over buckets (O(log n) reads of one bucket each), never a sort of the whole sequence.
 *   The obvious queries (`{key, position: {$gt}}` sorted and limited) are one index range
 *   on MongoDB, but read and sort every document of the key on the local default database.
 */
export interface BucketedSequence<T extends Document> {
  /**
   * Inserts `make(position)` (with its `bucket` added) at the next position of `key`. When an
   * insert is refused, `existing()` says whether the caller's document is stored already (its
   * position) or not (undefined: the position was someone else's).
   */
  append(key: string, make: (position: number) => T, existing: () => Promise<number | undefined>): Promise<{ position: number; inserted: boolean }>;
  /** The highest stored position of `key` (0 when empty). */
  last(key: string): Promise<number>;
  /** Documents at positions after `afterPosition`, ascending and contiguous, at most `limit`. */
  after(key: string, afterPosition: number, limit: number): Promise<T[]>;
  /** Documents at positions below `beforePosition` (or from the last one), newest first, at most `limit`. */
  before(key: string, beforePosition: number | undefined, limit: number): Promise<T[]>;
}

/** The key of a sequence is given per call (it is part of the bucket); only the position is a field of its own. */
export interface SequenceFields {
  /** The field holding the position (`seq`, `position`). */
  position: string;
}

/**
 * The one index a bucketed sequence needs: unique (bucket, position) is the position guard
 * (the bucket names the key, so it is unique per key and position) and serves every read
 * (equality on its first key). One index instead of a guard plus a read index: every index is
 * work on every insert.
 */
export function sequenceIndex(fields: SequenceFields, name: string): IndexSpec {
  return { key: { bucket: 1, [fields.position]: 1 }, name, unique: true };
}

const MAX_APPEND_ATTEMPTS = 200;
/** Cheap probes (+1, +2, …) after refusals before searching for the last position again. */
const PROBES_BEFORE_RESYNC = 4;

/** How many positions bucket `b` holds when full (positions start at 1, so bucket 0 holds one fewer). */
const capacity = (b: number) => (b === 0 ? BUCKET_SIZE - 1 : BUCKET_SIZE);

export function createBucketedSequence<T extends Document>(
  collection: Collection<T>,
  fields: SequenceFields,
  opts: {
    cacheMax?: number;
    /** Fields pages leave out (what only other readers need). */
    omit?: readonly string[];
    /** While it is known, appends queued behind a failing one fail at once (mongo-outage.ts). */
    outage?: DatabaseOutage;
  } = {},
): BucketedSequence<T> {
  const docs = collection as unknown as Collection<Document>;
  // Concurrent appends (to any key) share one insert command: see InsertBatcher.
  const inserts = new InsertBatcher(docs, opts.outage);
  const lastKnown = new LRUCache<string, number>({ max: opts.cacheMax ?? 100_000 });
  const perKey = new KeyedSerializer();
  const positionOf = (doc: Document) => doc[fields.position] as number;

  const remember = (key: string, position: number) => {
    if (position > (lastKnown.get(key) ?? 0)) lastKnown.set(key, position);
  };

  const pageProjection = opts.omit && opts.omit.length > 0 ? { projection: Object.fromEntries(opts.omit.map((f) => [f, 0])) } : {};

  async function readBucket(key: string, bucket: number, positionsOnly = false): Promise<Document[]> {
    const filter = { bucket: bucketKey(key, bucket) };
    return docs.find(filter, positionsOnly ? { projection: { [fields.position]: 1 } } : pageProjection).toArray();
  }

  const highest = (found: Document[]) => Math.max(...found.map(positionOf));

  /** Gallops up from a bucket known to be non-empty (or -1), then halves the gap. */
  async function searchLast(key: string, from: number): Promise<number> {
    let known = -1;
    let knownTop = 0;
    let empty: number | undefined;
    for (let probe = Math.max(from, 0), step = 1; empty === undefined; probe = known + step, step *= 2) {
      const found = await readBucket(key, probe, true);
      if (found.length === 0) empty = probe;
      else if (found.length < capacity(probe)) return highest(found);
      else [known, knownTop] = [probe, highest(found)];
    }
    while (empty - known > 1) {
      const mid = Math.floor((known + empty) / 2);
      const found = await readBucket(key, mid, true);
      if (found.length === 0) empty = mid;
      else if (found.length < capacity(mid)) return highest(found);
      else [known, knownTop] = [mid, highest(found)];
    }
    return knownTop;
  }

  async function last(key: string): Promise<number> {
    const hint = lastKnown.get(key);
    const found = await searchLast(key, hint === undefined ? 0 : bucketOf(hint));
    remember(key, found);
    return found;
  }

  async function readRange(key: string, from: number, to: number): Promise<Document[]> {
    if (to < from) return [];
    const buckets: number[] = [];
    for (let b = bucketOf(from); b <= bucketOf(to); b++) buckets.push(b);
    const found = (await Promise.all(buckets.map((b) => readBucket(key, b)))).flat();
    return found.filter((doc) => positionOf(doc) >= from && positionOf(doc) <= to).sort((x, y) => positionOf(x) - positionOf(y));
  }

  return {
    append(key, make, existing) {
      return perKey.run(key, async () => {
        // Queued behind an append that failed for want of a server: fail now, not after our own wait.
        opts.outage?.assertReachable();
        let position = (lastKnown.get(key) ?? (await last(key))) + 1;
        for (let attempt = 1; ; attempt++) {
          try {
            await inserts.insert({ ...make(position), bucket: bucketKey(key, bucketOf(position)) });
            remember(key, position);
            return { position, inserted: true };
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
          const stored = await existing();
          if (stored !== undefined) {
            remember(key, stored);
            return { position: stored, inserted: false };
          }
          if (attempt >= MAX_APPEND_ATTEMPTS) throw unavailable('this conversation is too contended right now, retry shortly');
          // Another replica took `position`, so it exists and the next one is a valid try; when
          // far behind, searching again beats probing one by one.
          position = attempt % PROBES_BEFORE_RESYNC === 0 ? (await last(key)) + 1 : position + 1;
        }
      });
    },

    last,

    async after(key, afterPosition, limit) {
      const from = afterPosition + 1;
      const to = afterPosition + limit;
      // The first bucket alone first: a resume usually has a few entries to read, all in it, and
      // a replay asks for up to 500 (six buckets, six reads, each a scan on the local default
      // database). Only a first bucket filled to its end can have the page go on in the next.
      const firstEnd = (bucketOf(from) + 1) * BUCKET_SIZE - 1;
      let found = await readRange(key, from, Math.min(to, firstEnd));
      if (to > firstEnd && found.length > 0 && positionOf(found.at(-1)!) === firstEnd) found = found.concat(await readRange(key, firstEnd + 1, to));
      // Buckets were read at slightly different moments: stop at the first hole, which a later
      // read of the same page will see filled (positions become visible in order).
      const page: Document[] = [];
      for (const doc of found) {
        if (positionOf(doc) !== afterPosition + 1 + page.length) break;
        page.push(doc);
      }
      if (page.length > 0) remember(key, positionOf(page.at(-1)!));
      return page as T[];
    },

    async before(key, beforePosition, limit) {
      const below = beforePosition ?? (await last(key)) + 1;
      const found = await readRange(key, Math.max(1, below - limit), below - 1);
      return found.reverse() as T[];
    },
  };
}
