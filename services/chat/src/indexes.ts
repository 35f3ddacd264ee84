import { MongoNetworkError, MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';

const ATTEMPTS = 4;

/**
 * Creates the indexes that do not exist yet (by name).
 *
 * Listing first, and retrying a dropped connection, matter on FerretDB: two processes creating
 * the same index at the same moment make it panic and drop the connection (measured with
 * v1.24: "slice bounds out of range"), which also clears the driver's pool. Replicas starting
 * together on a fresh database do exactly that; on the retry the indexes exist, so it only
 * lists. On MongoDB createIndexes is idempotent and this costs one listIndexes.
 */
export async function createMissingIndexes<T extends Document>(collection: Collection<T>, specs: Array<IndexDescription & { name: string }>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await existingIndexNames(collection);
      const missing = specs.filter((spec) => !existing.has(spec.name));
      if (missing.length > 0) await collection.createIndexes(missing);
      return;
    } catch (err) {
      if (!(err instanceof MongoNetworkError) || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}

async function existingIndexNames<T extends Document>(collection: Collection<T>): Promise<Set<string>> {
  try {
    return new Set((await collection.listIndexes().toArray()).map((index) => String(index.name)));
  } catch (err) {
    if (err instanceof MongoServerError && err.code === 26) return new Set(); // NamespaceNotFound: no collection yet
    throw err;
  }
}
