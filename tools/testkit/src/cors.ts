/**
 * CORS as a browser page on another origin meets it on Auth and Chat (both answer through
 * @chat/common's koa CORS middleware): its preflights, the grant on the responses to a listed
 * origin, and the access-control-* headers every other origin must not get.
 */
import assert from 'node:assert/strict';

/** A browser's preflight of `method` on `url` from `origin`, announcing the request headers it will send. */
export function preflight(url: string, origin: string, method: string, requestHeaders = 'content-type'): Promise<Response> {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': requestHeaders } });
}

/** The access-control-* header names of a response (none for an origin that is not listed). */
export function accessControlHeaders(headers: Headers): string[] {
  return [...headers.keys()].filter((k) => k.startsWith('access-control-'));
}

/** The grant on a response to a listed `origin`: the origin echoed, Retry-After readable, no credentials, and Vary: Origin for caches. */
export function assertCorsGranted(headers: Headers, origin: string): void {
  assert.equal(headers.get('access-control-allow-origin'), origin);
  assert.equal(headers.get('access-control-expose-headers'), 'Retry-After');
  assert.equal(headers.get('access-control-allow-credentials'), null);
  assert.match(headers.get('vary') ?? '', /\bOrigin\b/);
}

/**
 * A preflight from a listed `origin`, answered 204 with an empty body and the grant: the
 * services' methods and request headers, cached for ten minutes. Reads the body.
 */
export async function assertPreflightGranted(res: Response, origin: string, what: string): Promise<void> {
  assert.equal(res.status, 204, what);
  assert.equal(res.headers.get('access-control-allow-origin'), origin, what);
  assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, DELETE, OPTIONS', what);
  assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type', what);
  assert.equal(res.headers.get('access-control-max-age'), '600', what);
  assert.equal(await res.text(), '', what);
}
