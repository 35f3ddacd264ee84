import { errorBody } from '@chat/common/contracts';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { endJson } from './http-response.js';
import type { GatewayMetrics } from './metrics.js';

export interface HttpHandlerDeps {
  metrics: GatewayMetrics;
  /** Named readiness checks; all must be true. */
  readiness: () => Record<string, boolean>;
}

/**
 * `/healthz` and `/readyz` on the uWS app itself, next to the WebSocket route, where the probes
 * look (/metrics has a port of its own: serveMetrics in @chat/common/config). Each is timed into
 * the shared `http_request_duration_seconds{route,method,status}` histogram.
 */
export function registerHttpRoutes(app: TemplatedApp, deps: HttpHandlerDeps): void {
  const { metrics } = deps;
  const observe = (route: string, method: string, status: number, startedAt: number) =>
    metrics.httpDuration.observe({ route, method, status: String(status) }, (performance.now() - startedAt) / 1000);

  app.get('/healthz', (res) => {
    const startedAt = performance.now();
    endJson(res, 200, { status: 'ok' });
    observe('/healthz', 'GET', 200, startedAt);
  });

  app.get('/readyz', (res) => {
    const startedAt = performance.now();
    const checks = deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    const status = ready ? 200 : 503;
    endJson(res, status, ready ? { status: 'ready', checks } : errorBody('not_ready', 'service is not ready', { checks }));
    observe('/readyz', 'GET', status, startedAt);
  });

  // Everything else, including a plain GET on the WebSocket path without upgrade headers.
  app.any('/*', (res: HttpResponse, req) => {
    const startedAt = performance.now();
    const method = req.getMethod().toUpperCase();
    if (req.getUrl() === '/' && method === 'GET') {
      endJson(res, 426, errorBody('upgrade_required', 'connect with a WebSocket client: ws://host:port/?token=<JWT>'));
      observe('/', method, 426, startedAt);
      return;
    }
    endJson(res, 404, errorBody('not_found', 'no such route'));
    observe('unmatched', method, 404, startedAt);
  });
}
