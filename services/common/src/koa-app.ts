import Koa from 'koa';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import { koaMetrics } from './koa-metrics.js';
import { koaErrorHandler } from './koa-error-handler.js';
import { koaJsonBody } from './koa-json-body.js';

/**
 * The middleware stack every Koa service starts from, outermost first: metrics (sees the final
 * status), the error handler (maps every error to the envelope), then JSON-body hygiene.
 * Routes are added by the caller.
 */
export function createKoaApp(opts: { logger: Logger; metrics: ServiceMetrics; bodyLimitBytes: number }): Koa {
  const app = new Koa();
  // Koa logs uncaught errors itself; ours are all handled by koaErrorHandler.
  app.silent = true;
  app.use(koaMetrics(opts.metrics));
  app.use(koaErrorHandler(opts.logger));
  app.use(koaJsonBody(opts.bodyLimitBytes));
  return app;
}
