/**
 * HTTP methods no route takes, WebDAV's among them (black-box finding 2): on a path that
 * exists, 405 `method_not_allowed` with `Allow` naming what the path takes; on any other path
 * 404 `not_found`. Never a 5xx, on all three services (the gateway's uWS routes included,
 * except for the methods uWS itself refuses: see `webdav`).
 */
import assert from 'node:assert/strict';
import { rawRequest } from './attack-http.ts';
import type { AttackCase, Fixtures, Outcome } from './attack-suite.ts';

const TARGETS: { service: 'auth' | 'chat' | 'gateway'; path: string; allow: string }[] = [
  { service: 'auth', path: '/register', allow: 'POST' },
  { service: 'chat', path: '/chat/send', allow: 'POST' },
  { service: 'gateway', path: '/healthz', allow: 'GET' },
  { service: 'gateway', path: '/', allow: 'GET' },
];

const urlOf = (f: Fixtures, service: 'auth' | 'chat' | 'gateway') => f.stack[service].url;

/**
 * The gateway's HTTP parser (uWebSockets.js) knows only the standard methods; on any other it
 * closes the connection without an answer, before our code runs. No 5xx, no hang: the outcome
 * is status 0, `closed_without_answer`.
 */
async function webdav(url: string, method: string): Promise<Outcome & { headers?: Record<string, unknown> }> {
  try {
    // A JSON body, as a client using the wrong method would send: the method is what is wrong.
    return await rawRequest(url, { method, headers: { 'content-type': 'application/json' }, body: '{}' });
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNRESET') return { status: 0, code: 'closed_without_answer' };
    throw err;
  }
}

export const METHOD_CASES: AttackCase[] = [
  ...TARGETS.flatMap(({ service, path, allow }) =>
    ['PROPFIND', 'MKCOL', 'LOCK', 'PUT', 'DELETE'].map(
      (method): AttackCase => ({
        area: 'methods',
        name: `${service}: ${method} ${path}`,
        service,
        expect: service === 'gateway' && !['PUT', 'DELETE'].includes(method) ? { status: 0, code: 'closed_without_answer' } : { status: 405, code: 'method_not_allowed' },
        async send(f) {
          const res = await webdav(urlOf(f, service) + path, method);
          if (res.status === 405) assert.equal(res.headers?.allow, allow, 'Allow names the methods the path takes');
          return res;
        },
      }),
    ),
  ),
  ...(['auth', 'chat'] as const).map(
    (service): AttackCase => ({
      area: 'methods',
      name: `${service}: PROPFIND on a path that does not exist`,
      service,
      expect: { status: 404, code: 'not_found' },
      send: (f) => rawRequest(`${urlOf(f, service)}/no/such/path`, { method: 'PROPFIND' }),
    }),
  ),
  {
    area: 'methods',
    name: 'gateway: PUT on a path that does not exist',
    service: 'gateway',
    expect: { status: 404, code: 'not_found' },
    send: (f) => rawRequest(`${f.stack.gateway.url}/no/such/path`, { method: 'PUT' }),
  },
];
