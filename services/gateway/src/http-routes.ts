/**
 * Every HTTP route the gateway serves, as one table: app.ts and http-handler.ts register exactly
 * these (each row names what serves it, and the handlers are keyed by that name, so a row without
 * a handler or a handler without a row does not compile), and tests/system/api-openapi-routes.test.ts
 * reads it to check api/openapi.yaml, so a route added here fails that test until it is
 * documented. Another method on one of these paths answers 405 `method_not_allowed` with `Allow`;
 * anything else 404 `not_found`, /metrics included: it is served on METRICS_PORT (serveMetrics in
 * @chat/common/config), never on this port.
 */
export const GATEWAY_HTTP_ROUTES = [
  /** The WebSocket upgrade (ws-handler.ts); a plain GET without the upgrade headers answers 426. */
  { method: 'GET', path: '/', serves: 'websocket' },
  { method: 'GET', path: '/healthz', serves: 'healthz' },
  { method: 'GET', path: '/readyz', serves: 'readyz' },
] as const;

export type GatewayHttpRoute = (typeof GATEWAY_HTTP_ROUTES)[number];

/** The path of the WebSocket upgrade. */
export const WEBSOCKET_PATH = GATEWAY_HTTP_ROUTES.find((r) => r.serves === 'websocket')!.path;
