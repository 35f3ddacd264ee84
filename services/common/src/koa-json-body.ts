import bodyParser from 'koa-bodyparser';
import type { Middleware } from 'koa';
import { invalidRequest, RequestError } from './errors.js';
import { jsonBodyRuleViolation } from './json-body-rules.js';

/** Anything but JSON whitespace (RFC 8259: space, tab, line feed, carriage return): a body of only these is empty. */
const NOT_JSON_WHITESPACE = /[^ \t\n\r]/;

const notAnObject = (message: string) => new RequestError(400, 'invalid_json', message);

/**
 * JSON bodies only, and a body must be a JSON object: the one body parser of every Koa route of
 * every service, so each answers the same. koa-bodyparser with `enableTypes: ['json']` silently
 * skips other content types (the body stays `{}`), so the 415 is ours. Bodies over the limit get
 * 413 and malformed JSON 400 `invalid_json`, both mapped by the error handler; an empty body, an
 * array or a scalar is not an object, so it is 400 `invalid_json` too (the READMEs promise that
 * code for "a body that is not an object"). A body that parses but breaks a rule of
 * json-body-rules.ts (operator or prototype keys, duplicate keys, deep nesting) is 400
 * `invalid_request`, before any route reads a field.
 */
export function koaJsonBody(limitBytes: number): Middleware {
  // `__proto__` keys are left to jsonBodyRuleViolation, which refuses them with a message that
  // names the key (the parser's own refusal would read as malformed JSON). JSON.parse makes such
  // a key an own property, never the prototype.
  const options = { enableTypes: ['json'], jsonLimit: `${limitBytes}b`, strict: true, onProtoPoisoning: 'ignore' };
  const parse = bodyParser(options as bodyParser.Options);
  return async (ctx, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    if (!ctx.is('application/json')) {
      throw new RequestError(415, 'unsupported_media_type', 'content-type must be application/json');
    }
    await parse(ctx, async () => {});
    const { body, rawBody } = ctx.request as { body?: unknown; rawBody?: unknown };
    if (typeof rawBody !== 'string' || !NOT_JSON_WHITESPACE.test(rawBody)) throw notAnObject('request body is empty: it must be a JSON object');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notAnObject('request body must be a JSON object');
    const violation = jsonBodyRuleViolation(rawBody);
    if (violation) throw invalidRequest(violation);
    return next();
  };
}

/** The parsed JSON object body (after koaJsonBody). Fields are `unknown` until validated. */
export function jsonBody(ctx: { request: unknown }): Record<string, unknown> {
  return ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
}
