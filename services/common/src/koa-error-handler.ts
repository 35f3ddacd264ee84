import type { Context, Middleware } from 'koa';
import type { Logger } from './logger.js';
import { errorBody, RequestError } from './errors.js';

/**
 * Errors raised while reading a body (koa-bodyparser, raw-body, zlib, koa's own `ctx.throw`)
 * carry a 4xx `status`, a `type` or a zlib `code`. They are the client's fault: map them to the
 * envelope instead of letting them become a 500.
 */
function fromBodyParser(err: unknown): RequestError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: number; statusCode?: number; type?: string; code?: string; message?: string };
  if (e.type === 'entity.too.large') return new RequestError(413, 'payload_too_large', 'request body is too large');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new RequestError(415, 'unsupported_media_type', 'unsupported content encoding or charset');
  }
  if (e.type === 'request.aborted') return new RequestError(400, 'request_aborted', 'request was aborted');
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) return new RequestError(400, 'invalid_body', 'request body does not match its content-encoding');
  if (e.type === 'entity.parse.failed') return new RequestError(400, 'invalid_json', 'request body is not valid JSON');
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // e.g. the JSON parser refusing `__proto__` keys: still a bad body, never a 500.
    if (status === 415) return new RequestError(415, 'unsupported_media_type', 'unsupported content encoding or charset');
    if (status === 413) return new RequestError(413, 'payload_too_large', 'request body is too large');
    return new RequestError(status, status === 400 ? 'invalid_json' : 'invalid_request', status === 400 ? 'request body is not valid JSON' : 'request was refused');
  }
  return undefined;
}

/** Statuses the router (or Koa) sets without a body; they still get the envelope. */
const BODYLESS_ERRORS: Record<number, (ctx: Context) => RequestError> = {
  404: (ctx) => new RequestError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`),
  405: (ctx) => new RequestError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`),
  // koa-router answers 501 to a method none of its routes implements (PROPFIND, MKCOL, LOCK…).
  // That is bad input, which never gets a 5xx: on a path that exists it is the same 405 as any
  // other method the path lacks (the router's Allow lists what it takes), elsewhere a 404.
  501: (ctx) => {
    if (ctx.response.get('Allow')) return BODYLESS_ERRORS[405]!(ctx);
    ctx.remove('Allow');
    return BODYLESS_ERRORS[404]!(ctx);
  },
};

/**
 * The single place errors become responses: a RequestError maps to its status and envelope,
 * anything else is a bug, answered with a generic 500 and logged with its stack. Unmatched
 * routes become a 404 in the envelope.
 */
export function koaErrorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      const bodyless = BODYLESS_ERRORS[ctx.status];
      if (bodyless && (ctx.body === undefined || ctx.body === null || typeof ctx.body === 'string')) throw bodyless(ctx);
    } catch (err) {
      const known = err instanceof RequestError ? err : fromBodyParser(err);
      if (known) {
        ctx.status = known.status;
        ctx.set(known.headers);
        ctx.body = known.toBody();
        return;
      }
      logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error (a 500 is a bug)');
      ctx.status = 500;
      ctx.body = errorBody('internal', 'internal server error');
    }
  };
}
