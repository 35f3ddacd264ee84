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

/** What each path of the table takes (the `Allow` of a 405), the WebSocket's included. */
const ALLOWED_BY_PATH = new Map<string, string>(GATEWAY_HTTP_ROUTES.map((route) => [route.path, route.method]));

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

  // Everything else: a plain GET on the WebSocket path without upgrade headers (426), another
  // method on one of the paths above (405, as Auth and Chat answer it), any other path (404).
  // Methods uWS does not parse at all (PROPFIND, MKCOL, LOCK…) never get here: the library
  // closes such a connection without an answer.
  app.any('/*', (res: HttpResponse, req) => {
    const startedAt = performance.now();
    const method = req.getMethod().toUpperCase();
    const url = req.getUrl();
    if (url === WEBSOCKET_PATH && method === 'GET') {
      endJson(res, 426, errorBody('upgrade_required', 'connect with a WebSocket client: ws://host:port/?token=<JWT>'));
      observe(WEBSOCKET_PATH, method, 426, startedAt);
      return;
    }
    const allow = ALLOWED_BY_PATH.get(url);
    if (allow) {
      endJson(res, 405, errorBody('method_not_allowed', `${method} is not allowed on ${url}`), { allow });
      observe(url, method, 405, startedAt);
      return;
    }
    endJson(res, 404, errorBody('not_found', 'no such route'));
    observe('unmatched', method, 404, startedAt);
  });
}
