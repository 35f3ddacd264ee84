import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import Router from '@koa/router';
import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';
import type { Admission } from './admission.js';
import { errorBody } from './errors.js';

export type ReadinessCheck = () => Promise<boolean> | boolean;

/**
 * `/healthz` (the process answers) and `/readyz` (every dependency check passes and we are not
 * draining), on the public port where the probes look. Readiness reports each check by name, so
 * an operator sees which dependency is down. /metrics has a port of its own (metrics-server.ts).
 */
export function healthRouter(opts: { lifecycle: Lifecycle; checks: Record<string, ReadinessCheck> }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results: Record<string, boolean> = { draining: !opts.lifecycle.closing };
    await Promise.all(
      Object.entries(opts.checks).map(async ([name, check]) => {
        results[name] = await Promise.resolve()
          .then(check)
          .catch(() => false);
      }),
    );
    const ready = Object.values(results).every(Boolean);
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: 'ready', checks: results } : errorBody('not_ready', 'service is not ready', { checks: results });
  });
  return router;
}

/**
 * How long before the drain deadline requests still running are answered 503 (admission's
 * abandonRunning), so their answers are written before the connections are cut.
 */
const ABANDON_MARGIN_MS = 250;

/**
 * Listens and registers the drain: on shutdown the listener stops accepting, idle keep-alive
 * connections close, and in-flight requests finish; whatever remains at the deadline is cut.
 * With `admission`, the drain never turns work into a 500: requests waiting for a slot, and any
 * that arrive on open connections, get 503 at once; requests still running shortly before the
 * deadline get 503 then, before the steps after this one close the database client.
 */
export async function serveKoa(app: Koa, opts: { port: number; host?: string; lifecycle: Lifecycle; logger: Logger; drainMs: number; admission?: Admission }): Promise<Server> {
  const server = createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  opts.logger.info({ port: opts.port }, 'listening');
  opts.lifecycle.onShutdown('http', async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // A keep-alive connection whose last request ends during the drain would otherwise stay
    // open until the deadline: close connections as they turn idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => server.closeAllConnections(), opts.drainMs);
    const admission = opts.admission;
    if (admission) {
      admission.drain();
      if (!(await admission.idle(Math.max(0, opts.drainMs - ABANDON_MARGIN_MS)))) {
        const abandoned = admission.abandonRunning();
        opts.logger.warn({ abandoned }, 'drain deadline: requests still running were answered 503');
      }
    }
    await closed;
    clearInterval(sweep);
    clearTimeout(timer);
  });
  return server;
}
