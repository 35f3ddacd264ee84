import type { Middleware } from 'koa';
import { unavailable, type Logger } from '@chat/common';
import { isDatabaseOutage } from '../db-errors.js';

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
      throw unavailable('the message database is unreachable, retry shortly');
    }
  };
}
