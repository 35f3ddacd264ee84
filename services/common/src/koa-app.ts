import Koa from 'koa';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';
import { koaMetrics } from './koa-metrics.js';
import { koaCors } from './koa-cors.js';
import { koaErrorHandler } from './koa-error-handler.js';
import { koaJsonBody } from './koa-json-body.js';
import { onlyForRoutedRequests } from './koa-routed-body.js';

/**
 * The middleware stack every Koa service starts from, outermost first: metrics (sees the final
 * status), CORS (answers preflights before any router; its headers survive error responses),
 * the error handler (maps every error to the envelope), then JSON-body hygiene for requests a
 * route takes (any other gets the router's 404 or 405, whatever its body).
 * Routes are added by the caller. `corsOrigins` empty (the default) sends no CORS headers.
 */
export function createKoaApp(opts: {
  logger: Logger;
  metrics: ServiceMetrics;
  bodyLimitBytes: number;
  corsOrigins?: readonly string[];
  /** More measuring middleware, also outside the error handler so it sees the final status. */
  measuring?: readonly Koa.Middleware[];
}): Koa {
  const app = new Koa();
  // Koa logs uncaught errors itself; ours are all handled by koaErrorHandler.
  app.silent = true;
  app.use(koaMetrics(opts.metrics));
  for (const middleware of opts.measuring ?? []) app.use(middleware);
  app.use(koaCors(opts.corsOrigins ?? []));
  app.use(koaErrorHandler(opts.logger));
  app.use(onlyForRoutedRequests(koaJsonBody(opts.bodyLimitBytes)));
  return app;
}
