import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';
import { RequestError } from './errors.js';

/**
 * JSON bodies only. koa-bodyparser with `enableTypes: ['json']` silently skips other content
 * types (the body stays `{}`), so the 415 is ours. Bodies over the limit get 413 and malformed
 * JSON 400, both mapped by the error handler. A body must be a JSON object.
 */
export function koaJsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: `${limitBytes}b`, strict: true });
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    if (!ctx.is('application/json')) {
      throw new RequestError(415, 'unsupported_media_type', 'content-type must be application/json');
    }
    await parse(ctx, async () => {});
    const body = (ctx.request as { body?: unknown }).body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RequestError(400, 'invalid_request', 'request body must be a JSON object');
    }
    return next();
  };
}

/** The parsed JSON object body (after koaJsonBody). Fields are `unknown` until validated. */
export function jsonBody(ctx: { request: unknown }): Record<string, unknown> {
  return ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
}
