import { MongoNetworkError, MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';
import { sleep } from './lifecycle.js';

/** One index of a collection. The name is required: an existing index is recognised by it. */
export type IndexSpec = IndexDescription & { name: string };

/** Tries per creation when the connection drops (see createMissingIndexes). */
const ATTEMPTS = 4;
const NAMESPACE_NOT_FOUND = 26;

/** The tail of this process's index creations: each one starts after the previous one ended. */
let previous: Promise<unknown> = Promise.resolve();

/**
 * A collection's `ensureIndexes`: the first call creates whichever of `specs` do not exist yet,
 * later calls get the same promise, and a failure is forgotten so that the next call tries again.
 */
export function indexesOnce<T extends Document>(collection: Collection<T>, specs: readonly IndexSpec[]): () => Promise<void> {
  let created: Promise<void> | undefined;
  return () =>
    (created ??= createMissingIndexes(collection, specs).catch((err: unknown) => {
      created = undefined;
      throw err;
    }));
}

/**
 * Creates the indexes of `specs` that do not exist yet (by name): one createIndex per index, and
 * one index creation at a time in this process.
 *
 * This is rule 5 of mongo-portability.ts: the local default database panics and drops the
 * connection (clearing the driver's pool) when a createIndexes names several indexes that exist
 * already, as at every restart, and when two arrive for the same index at the same moment (measured: "slice bounds
 * out of range"). So the indexes are listed first and only the missing ones created, one per
 * command, never two commands at once from one process. Replicas starting together on a fresh
 * database can still collide, so a dropped connection is retried: by then the indexes exist and
 * the retry only lists them. On MongoDB this costs one listIndexes per collection.
 */
export function createMissingIndexes<T extends Document>(collection: Collection<T>, specs: readonly IndexSpec[]): Promise<void> {
  const run = previous.then(() => createMissingNow(collection, specs));
  previous = run.catch(() => undefined);
  return run;
}

async function createMissingNow<T extends Document>(collection: Collection<T>, specs: readonly IndexSpec[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await existingIndexNames(collection);
      for (const { key, ...options } of specs) {
        if (!existing.has(options.name)) await collection.createIndex(key, options);
      }
      return;
    } catch (err) {
      if (!(err instanceof MongoNetworkError) || attempt >= ATTEMPTS) throw err;
      await sleep(50 + Math.random() * 200);
    }
  }
}

async function existingIndexNames<T extends Document>(collection: Collection<T>): Promise<Set<string>> {
  try {
    return new Set((await collection.listIndexes().toArray()).map((index) => String(index.name)));
  } catch (err) {
    if (err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND) return new Set(); // no collection yet
    throw err;
  }
}
