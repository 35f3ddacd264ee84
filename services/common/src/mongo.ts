/**
 * @chat/common/mongo — MongoDB for Auth and Chat: the MONGO_URL variable, the client, connect
 * and readiness, error classification (duplicate key, outage) with the middleware that answers an
 * outage with 503, the outage state that refuses database work at once while it lasts, and index creation.
 *
 * Packages: mongodb, a peer dependency of @chat/common that only the services importing this
 * entry install (the gateway does not); koa only as a type. Imports contracts and config.
 */
export * from './mongo-client.js';
export * from './mongo-indexes.js';
export * from './mongo-insert-batcher.js';
export * from './mongo-outage.js';
export * from './mongo-portability.js';
export * from './mongo-round-trips.js';
