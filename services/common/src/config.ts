/**
 * @chat/common/config — what every service process needs, whatever it serves: its
 * configuration from the environment, its logger, its metrics registry and the port that serves
 * it, its lifecycle (start, signals, drain) and the name of its own broker queue (from POD_NAME
 * or the host name), the client address a limit per address counts a request under, and the
 * backoff its background work waits with after a failure.
 *
 * Packages: pino and prom-client, which every service has. Imports only contracts (the token
 * policy's defaults for JWT_ISSUER and JWT_AUDIENCE).
 */
export * from './env-config.js';
export * from './logger.js';
export * from './metrics.js';
export * from './metrics-server.js';
export * from './lifecycle.js';
export * from './queue-name.js';
export * from './client-address.js';
export * from './backoff.js';
export * from './concurrency-limiter.js';
