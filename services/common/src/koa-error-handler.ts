import type { Middleware } from 'koa';
import type { Logger } from './logger.js';
import { errorBody, RequestError } from './errors.js';

/** Errors raised by koa-bodyparser / raw-body carry `status` and `type`; map them to the envelope. */
function fromBodyParser(err: unknown): RequestError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.too.large') return new RequestError(413, 'payload_too_large', 'request body is too large');
  if (e.type === 'entity.parse.failed' || (e.status === 400 && /JSON|Unexpected/i.test(e.message ?? ''))) {
    return new RequestError(400, 'invalid_json', 'request body is not valid JSON');
  }
  if (e.type === 'encoding.unsupported') return new RequestError(415, 'unsupported_media_type', 'unsupported content encoding');
  if (e.type === 'request.aborted') return new RequestError(400, 'request_aborted', 'request was aborted');
  if (e.type === 'charset.unsupported') return new RequestError(415, 'unsupported_media_type', 'unsupported charset');
  return undefined;
}

/**
 * The single place errors become responses: a RequestError maps to its status and envelope,
 * anything else is a bug, answered with a generic 500 and logged with its stack. Unmatched
 * routes become a 404 in the envelope.
 */
export function koaErrorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new RequestError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        throw new RequestError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
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
