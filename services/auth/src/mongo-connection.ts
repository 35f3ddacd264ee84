import type { Db, MongoClient } from 'mongodb';
import { sleep, type Logger } from '@chat/common';

/**
 * Connects, retrying until it succeeds or `stopped()` turns true.
 *
 * This is needed because of how the driver (6.x) auto-connects: when the very first connection
 * fails it closes the topology it created but keeps it, so every later operation fails with
 * "Topology is closed" even after the database comes up. An explicit `connect()` replaces a
 * topology that is not connected. Once connected, the driver's own monitoring handles outages.
 */
export async function connectWithRetry(client: MongoClient, opts: { logger: Logger; retryMs: number; stopped: () => boolean }): Promise<boolean> {
  for (let attempt = 1; !opts.stopped(); attempt++) {
    try {
      await client.connect();
      if (attempt > 1) opts.logger.info({ attempt }, 'database connected');
      return true;
    } catch (err) {
      if (opts.stopped()) break;
      opts.logger.warn({ err, attempt, retryInMs: opts.retryMs }, 'database connection failed; retrying');
      await sleep(opts.retryMs);
    }
  }
  return false;
}

/**
 * The readiness check: the database answers a ping and the indexes exist, within `timeoutMs`
 * (false after that; the driver's own wait is the longer MONGO_TIMEOUT_MS).
 */
export function databaseReadiness(db: Db, ensureIndexes: () => Promise<unknown>, timeoutMs: number): () => Promise<boolean> {
  return async () => {
    const check = (async () => {
      await db.command({ ping: 1 });
      await ensureIndexes();
      return true;
    })();
    check.catch(() => undefined); // a failure after the deadline is not an unhandled rejection
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([check, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
