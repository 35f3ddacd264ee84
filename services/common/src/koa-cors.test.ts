import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import Router from '@koa/router';
import { createKoaApp } from './koa-app.js';
import { ConfigError, loadConfig } from './env-config.js';
import { corsOriginsSpec, parseCorsOrigin } from './koa-cors.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { RequestError } from './errors.js';

const PAGE = 'http://127.0.0.1:5000';
const OTHER = 'https://evil.example';

/** A service on createKoaApp, so the middleware is tested in its real place in the stack. */
async function serve(corsOrigins?: string[]) {
  const metrics = createMetrics('t');
  const app = createKoaApp({ logger: createLogger({ service: 't', level: 'silent' }), metrics, bodyLimitBytes: 1024, ...(corsOrigins ? { corsOrigins } : {}) });
  const router = new Router();
  router.post('/echo', (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/limited', () => {
    throw new RequestError(429, 'too_many_attempts', 'slow down', { headers: { 'retry-after': '7' } });
  });
  router.get('/bug', () => {
    throw new Error('kaboom');
  });
  app.use(router.routes()).use(router.allowedMethods());
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => server.close());
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, metrics };
}

const preflight = (origin: string, method = 'POST') => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
});
const accessControl = (h: Headers) => [...h.keys()].filter((k) => k.startsWith('access-control-'));

const enabled = await serve([PAGE]);
const disabled = await serve();

test('CORS_ORIGINS defaults to none and parses to the exact origins browsers send', () => {
  const spec = { CORS_ORIGINS: corsOriginsSpec() };
  assert.deepEqual(loadConfig(spec, {}).CORS_ORIGINS, []);
  assert.deepEqual(
    loadConfig(spec, { CORS_ORIGINS: ' http://127.0.0.1:5000, HTTPS://Chat.Example.com:443/ ,,http://localhost:5000,http://127.0.0.1:5000' }).CORS_ORIGINS,
    ['http://127.0.0.1:5000', 'https://chat.example.com', 'http://localhost:5000'],
  );
});

test('CORS_ORIGINS refuses wildcards and anything that is not a bare http(s) origin, naming the variable', () => {
  const spec = { CORS_ORIGINS: corsOriginsSpec() };
  for (const bad of ['*', 'https://a.example,*', 'https://*.example.com', 'null', 'chat.example.com', 'localhost:5000', 'ftp://a.example', 'https://a.example/app', 'https://a.example?x=1', 'https://a.example/#x', 'https://u:p@a.example']) {
    assert.throws(
      () => loadConfig(spec, { CORS_ORIGINS: bad }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'CORS_ORIGINS' && /^Invalid configuration: CORS_ORIGINS /.test(err.message),
      bad,
    );
  }
  assert.throws(() => parseCorsOrigin('*'), /wildcard/);
});

test('a preflight from an allowed origin is answered 204 with the CORS grant, before any router', async () => {
  // /echo only has POST and /nope does not exist: the routers would answer 405/404.
  for (const path of ['/echo', '/nope', '/limited']) {
    const res = await fetch(enabled.base + path, preflight(PAGE, 'PATCH'));
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), PAGE);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, DELETE, OPTIONS');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'no credentials mode');
    assert.match(res.headers.get('vary') ?? '', /\bOrigin\b/);
    assert.equal(await res.text(), '');
  }
});

test('a preflight from another origin gets 204 without any CORS header', async () => {
  const res = await fetch(enabled.base + '/echo', preflight(OTHER));
  assert.equal(res.status, 204);
  assert.deepEqual(accessControl(res.headers), []);
  // Origins match exactly: same host on another port or scheme is another origin.
  for (const near of ['http://127.0.0.1:5001', 'https://127.0.0.1:5000', 'http://localhost:5000', `${PAGE}/`]) {
    assert.deepEqual(accessControl((await fetch(enabled.base + '/echo', preflight(near))).headers), [], near);
  }
});

test('an OPTIONS that is not a preflight still reaches the router', async () => {
  const res = await fetch(enabled.base + '/echo', { method: 'OPTIONS', headers: { origin: PAGE } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('allow'), 'POST');
});

test('an allowed origin can read responses, error envelopes and Retry-After', async () => {
  const ok = await fetch(enabled.base + '/echo', { method: 'POST', headers: { origin: PAGE, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true });
  assert.equal(ok.headers.get('access-control-allow-origin'), PAGE);
  assert.equal(ok.headers.get('access-control-expose-headers'), 'Retry-After');
  assert.match(ok.headers.get('vary') ?? '', /\bOrigin\b/);

  const limited = await fetch(enabled.base + '/limited', { headers: { origin: PAGE } });
  assert.equal(limited.status, 429);
  assert.deepEqual(await limited.json(), { error: { code: 'too_many_attempts', message: 'slow down' } });
  assert.equal(limited.headers.get('retry-after'), '7');
  assert.equal(limited.headers.get('access-control-allow-origin'), PAGE);
  assert.equal(limited.headers.get('access-control-expose-headers'), 'Retry-After');

  for (const [path, init, status] of [['/nope', {}, 404], ['/echo', { method: 'POST', body: 'x' }, 415], ['/bug', {}, 500]] as const) {
    const res = await fetch(enabled.base + path, { ...init, headers: { origin: PAGE } });
    assert.equal(res.status, status, path);
    assert.ok(((await res.json()) as { error?: unknown }).error, path);
    assert.equal(res.headers.get('access-control-allow-origin'), PAGE, path);
  }
});

test('another origin gets the usual answer without any CORS header', async () => {
  const ok = await fetch(enabled.base + '/echo', { method: 'POST', headers: { origin: OTHER, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true });
  assert.deepEqual(accessControl(ok.headers), []);
  assert.match(ok.headers.get('vary') ?? '', /\bOrigin\b/, 'caches must still key on Origin');
  const limited = await fetch(enabled.base + '/limited', { headers: { origin: OTHER } });
  assert.equal(limited.status, 429);
  assert.deepEqual(accessControl(limited.headers), []);
  const none = await fetch(enabled.base + '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.deepEqual(accessControl(none.headers), []);
});

test('without CORS_ORIGINS nothing changes: no CORS headers, preflights go to the routers', async () => {
  const pf = await fetch(disabled.base + '/nope', preflight(PAGE));
  assert.equal(pf.status, 404);
  assert.deepEqual(accessControl(pf.headers), []);
  const ok = await fetch(disabled.base + '/echo', { method: 'POST', headers: { origin: PAGE, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(ok.status, 200);
  assert.deepEqual(accessControl(ok.headers), []);
  assert.equal(ok.headers.get('vary'), null);
});

test('preflights are counted in the request metrics', async () => {
  await fetch(enabled.base + '/echo', preflight(PAGE));
  const text = await enabled.metrics.registry.metrics();
  assert.match(text, /http_request_duration_seconds_count\{service="t",route="unmatched",method="OPTIONS",status="204"\} [1-9]/);
});
