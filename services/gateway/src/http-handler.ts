import { errorBody } from '@chat/common/contracts';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { endJson } from './http-response.js';
import { GATEWAY_HTTP_ROUTES, WEBSOCKET_PATH, type GatewayHttpRoute } from './http-routes.js';
import type { GatewayMetrics } from './metrics.js';

export interface HttpHandlerDeps {
  metrics: GatewayMetrics;
  /** Named readiness checks; all must be true. */
  readiness: () => Record<string, boolean>;
}

type HttpHandler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * `/healthz` and `/readyz` on the uWS app itself, next to the WebSocket route, where the probes
 * look (/metrics has a port of its own: serveMetrics in @chat/common/config). The routes come
 * from the table in http-routes.ts (the WebSocket route is app.ts's). Each is timed into the
 * shared `http_request_duration_seconds{route,method,status}` histogram.
 */
export function registerHttpRoutes(app: TemplatedApp, deps: HttpHandlerDeps): void {
  const { metrics } = deps;
  const observe = (route: string, method: string, status: number, startedAt: number) =>
    metrics.httpDuration.observe({ route, method, status: String(status) }, (performance.now() - startedAt) / 1000);

  const handlers: Record<Exclude<GatewayHttpRoute['serves'], 'websocket'>, HttpHandler> = {
    healthz: (res) => {
      const startedAt = performance.now();
      endJson(res, 200, { status: 'ok' });
      observe('/healthz', 'GET', 200, startedAt);
    },

    readyz: (res) => {
      const startedAt = performance.now();
      const checks = deps.readiness();
      const ready = Object.values(checks).every(Boolean);
      const status = ready ? 200 : 503;
      endJson(res, status, ready ? { status: 'ready', checks } : errorBody('not_ready', 'service is not ready', { checks }));
      observe('/readyz', 'GET', status, startedAt);
    },
  };
  for (const route of GATEWAY_HTTP_ROUTES) {
    // By the row's own method, so the table cannot say one method while another is served.
    if (route.serves !== 'websocket') app[route.method.toLowerCase() as Lowercase<GatewayHttpRoute['method']>](route.path, handlers[route.serves]);
  }

  // Everything else, including a plain GET on the WebSocket path without upgrade headers.
  app.any('/*', (res: HttpResponse, req) => {
    const startedAt = performance.now();
    const method = req.getMethod().toUpperCase();
    if (req.getUrl() === WEBSOCKET_PATH && method === 'GET') {
      endJson(res, 426, errorBody('upgrade_required', 'connect with a WebSocket client: ws://host:port/?token=<JWT>'));
      observe(WEBSOCKET_PATH, method, 426, startedAt);
      return;
    }
    endJson(res, 404, errorBody('not_found', 'no such route'));
    observe('unmatched', method, 404, startedAt);
  });
}
