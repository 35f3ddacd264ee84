/**
 * The subset of MongoDB the data layer keeps to, and why: the one place where the local
 * default database (FerretDB v1.24, see the README's Development section) shapes product code.
 * Every rule below is also right on MongoDB 7, which is what deployments use, so the same code
 * runs unchanged on both.
 *
 * 1. **Unique indexes are the only guard.** No multi-document transactions (FerretDB ignores
 *    them) and no read-modify-write counters (its findAndModify is a query followed by an
 *    update, not atomic). Anything that must be unique (a name, an idempotency key, a sequence
 *    number) is an insert that a unique index refuses with E11000. Every update there reads the
 *    documents, applies the operators, and writes each whole document back, so two concurrent
 *    updates of different fields of one document can lose one (measured: a list's `updateMany`
 *    put back a group member's role set meanwhile). What decides access lives in documents that
 *    no bulk update rewrites. Even on MongoDB this is what
 *    keeps positions gap-free in commit order; a counter lets N+1 commit before N.
 * 2. **Reads are equality on one selective field.** FerretDB pushes only top-level equality on
 *    scalars down to its storage (where an index serves it); ranges, `$in`, sort and limit run
 *    after it has read and decoded every document that matched the equality part. So each
 *    query names a field whose matches are few: `_id`, a unique key, `published: false`, or a
 *    {@link bucketKey} of an ordered sequence. Sort and limit are still sent (MongoDB uses
 *    them); they are never what keeps a read small.
 * 3. **No partial or TTL indexes** (rejected there). Keys that would be null get a value, and
 *    expiry is done by the application.
 * 4. **Write commands stay under {@link MAX_STATEMENTS_PER_WRITE} statements, and updates are one
 *    `updateMany` each, never a bulk of per-document updates**: FerretDB hangs on an update
 *    command with 100 or more statements, and under load a bulkWrite of 99 per-id updates hung it
 *    as well (measured at 800 sends/s). Inserts may be batched (one `insertMany` is one statement).
 * 5. **Indexes are created one at a time, missing ones only** (see mongo-indexes.ts): it panics
 *    on a createIndexes naming indexes that exist already, or racing another for the same one.
 * 6. **No U+0000 in stored strings**: PostgreSQL's jsonb, under FerretDB, cannot hold it (the
 *    write fails). The API refuses it in every text it stores (`unstorableTextReason` in
 *    @chat/common/contracts), with a 400 that says so.
 */

/** Positions per bucket of an ordered sequence (a timeline, a conversation): what one read decodes at most. */
export const BUCKET_SIZE = 100;

/** The most statements one write command may carry (rule 4). */
export const MAX_STATEMENTS_PER_WRITE = 99;

/** The bucket number of a position in an ordered sequence. */
export function bucketOf(position: number): number {
  return Math.floor(position / BUCKET_SIZE);
}

/**
 * The bucket key of a position in the sequence named `sequenceKey` (rule 2): equality on it
 * finds at most {@link BUCKET_SIZE} documents, so a page of a long sequence is one or two reads
 * of that size, never a read of the whole sequence.
 */
export function bucketKey(sequenceKey: string, bucket: number): string {
  return `${sequenceKey}:${bucket}`;
}
