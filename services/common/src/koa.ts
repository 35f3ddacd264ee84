/**
 * @chat/common/koa — the HTTP stack of Auth and Chat: the Koa app with its middleware (metrics,
 * CORS and CORS_ORIGINS, the error envelope, JSON bodies), bearer-token authentication, the
 * server with /healthz, /readyz and the drain (/metrics is served on its own port: config's
 * serveMetrics), the list of routes an app serves, and admission control (a bound on requests
 * doing database work, with its metrics and its drain).
 *
 * Packages: koa, @koa/router and koa-bodyparser, peer dependencies of @chat/common that only
 * the services importing this entry install (the gateway does not). Imports contracts, config
 * and jwt.
 */
export * from './koa-app.js';
export * from './koa-metrics.js';
export * from './koa-cors.js';
export * from './koa-error-handler.js';
export * from './koa-json-body.js';
export * from './koa-auth.js';
export * from './koa-server.js';
export * from './koa-routes.js';
export * from './admission.js';
export * from './admission-metrics.js';
export * from './koa-admission.js';
