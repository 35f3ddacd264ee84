import type { Middleware } from 'koa';
import type { ServiceMetrics } from './metrics.js';

/**
 * Records every request in the duration histogram. It sits outside the error handler so the
 * status it sees is the final one; the route label is the router's template (`/users/:username`)
 * or `unmatched`, so scanners cannot blow up label cardinality.
 */
export function koaMetrics(metrics: ServiceMetrics): Middleware {
  return async (ctx, next) => {
    const end = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      end({ route: typeof route === 'string' ? route : 'unmatched', method: ctx.method, status: String(ctx.status) });
    }
  };
}
