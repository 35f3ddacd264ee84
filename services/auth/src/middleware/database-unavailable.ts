import type { Middleware } from 'koa';
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { Logger } from '@chat/common';
import { unavailable } from '@chat/common';

function isDatabaseOutage(err: unknown): boolean {
  return (
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoOperationTimeoutError
  );
}

/**
 * A database that cannot be reached is an outage, not a bug: the client gets 503 (retry
 * later) instead of the generic 500 the error handler gives anything unexpected.
 */
export function databaseUnavailable(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isDatabaseOutage(err)) throw err;
      logger.warn({ err, method: ctx.method, path: ctx.path }, 'database unreachable');
      throw unavailable('the user database is unreachable, retry shortly');
    }
  };
}
