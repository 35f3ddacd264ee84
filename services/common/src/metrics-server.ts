/**
 * GET /metrics on a port of its own (METRICS_PORT), never on the service's public port: what a
 * scrape shows (routes, rates, memory, queue names) is for the operator, and a port of its own is
 * what lets a NetworkPolicy admit only the scraper to it (the Helm chart's
 * `networkPolicy.metricsFrom`) while the public port stays open to clients. /healthz and /readyz
 * stay on the public port, where the kubelet's probes look.
 *
 * A plain node:http server, so the gateway (uWS, no Koa) and the Koa services share it. It stays
 * up through the drain (a scrape then shows the drain), and goes with the process.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { env } from './env-config.js';
import { errorBody } from './errors.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

/** Everything METRICS_PORT serves (api/openapi.yaml documents it, checked by tests/system/api-openapi-routes.test.ts). */
export const METRICS_ROUTES = [{ method: 'GET', path: '/metrics' }] as const;

/** METRICS_PORT of a service: 9101 Auth, 9102 Chat, 9103 Gateway (0 picks a free port). */
export const metricsPortSpec = (defaultPort: number) =>
  env.int({ default: defaultPort, min: 0, max: 65_535, doc: 'port of GET /metrics, apart from the public port so that only the scraper may reach it' });

function endJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

/** Listens on `port` (0 picks a free one); resolves once listening, rejects naming the port when it cannot. */
export async function serveMetrics(opts: { port: number; host?: string; metrics: ServiceMetrics; logger: Logger }): Promise<Server> {
  const { registry } = opts.metrics;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = METRICS_ROUTES.find((r) => r.path === path);
    if (!route) return endJson(res, 404, errorBody('not_found', 'this port serves GET /metrics only'));
    if (req.method !== route.method && req.method !== 'HEAD') {
      res.setHeader('allow', `${route.method}, HEAD`);
      return endJson(res, 405, errorBody('method_not_allowed', `${route.method} ${route.path}`));
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        opts.logger.error({ err }, 'metrics collection failed');
        endJson(res, 500, errorBody('internal', 'metrics collection failed'));
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `METRICS_PORT ${opts.port} is already in use by another process` : `cannot listen on METRICS_PORT ${opts.port}: ${err.message}`)),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  opts.logger.info({ metricsPort: typeof address === 'object' && address ? address.port : opts.port }, 'serving /metrics');
  return server;
}
