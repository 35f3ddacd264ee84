// The body of a request no route takes is not judged: the router's 405 or 404 is the answer.
// Found by the schemathesis gate: PUT /chat/history answered 415 `unsupported_media_type`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import Router from '@koa/router';
import { createKoaApp } from './koa-app.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { jsonBody } from './koa-json-body.js';

const logger = createLogger({ service: 't', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const app = createKoaApp({ logger, metrics: createMetrics('t'), bodyLimitBytes: 64 });
const reads = new Router();
reads.get('/list', (ctx) => {
  ctx.body = { items: [] };
});
app.use(reads.routes()).use(reads.allowedMethods());
// A second router, added after the first, with a prefix: the body parser asks every router.
const writes = new Router({ prefix: '/items' });
writes.post('/:id', (ctx) => {
  ctx.body = { got: jsonBody(ctx) };
});
app.use(writes.routes()).use(writes.allowedMethods());
const server = createServer(app.callback());
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

async function call(method: string, path: string, body: string, contentType: string) {
  const res = await fetch(base + path, { method, body, headers: { 'content-type': contentType } });
  return { status: res.status, allow: res.headers.get('allow'), code: ((await res.json()) as { error?: { code: string } }).error?.code };
}

test('a PUT, POST or PATCH to a path that only serves GET is 405 with Allow, whatever its body', async () => {
  for (const method of ['PUT', 'POST', 'PATCH']) {
    for (const [body, type] of [['x', 'text/plain'], ['{not json', 'application/json'], ['x'.repeat(1000), 'application/json']]) {
      const r = await call(method, '/list', body!, type!);
      assert.deepEqual(r, { status: 405, allow: 'HEAD, GET', code: 'method_not_allowed' }, `${method} ${type} ${body!.slice(0, 10)}`);
    }
  }
});

test('a body sent to a path no route has is 404, not 415', async () => {
  const r = await call('POST', '/nothing', 'x', 'text/plain');
  assert.equal(r.status, 404);
  assert.equal(r.code, 'not_found');
});

test('a route that takes the request still gets its body judged: 415, 400, 413, or the parsed object', async () => {
  assert.equal((await call('POST', '/items/1', 'x', 'text/plain')).code, 'unsupported_media_type');
  assert.equal((await call('POST', '/items/1', '{not json', 'application/json')).status, 400);
  assert.equal((await call('POST', '/items/1', JSON.stringify({ a: 'x'.repeat(100) }), 'application/json')).code, 'payload_too_large');
  const ok = await fetch(`${base}/items/1`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { got: { a: 1 } });
});
