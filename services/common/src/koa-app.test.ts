import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import Router from '@koa/router';
import { createKoaApp } from './koa-app.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { RequestError } from './errors.js';
import { jsonBody } from './koa-json-body.js';

const logs: string[] = [];
const logger = createLogger({ service: 't', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
const metrics = createMetrics('t');
const app = createKoaApp({ logger, metrics, bodyLimitBytes: 1024 });
const router = new Router();
router.post('/echo', (ctx) => {
  ctx.body = { got: jsonBody(ctx) };
});
router.get('/teapot', () => {
  // @ts-expect-error 'teapot' is no code of ours (see error-codes.ts); the handler still passes status and code through as given.
  throw new RequestError(418, 'teapot', 'short and stout', { headers: { 'retry-after': '3' } });
});
router.get('/bug', () => {
  throw new Error('kaboom with token=supersecret');
});
app.use(router.routes()).use(router.allowedMethods());
const server = createServer(app.callback());
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

async function call(path: string, init?: RequestInit) {
  const res = await fetch(base + path, init);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown>, headers: res.headers };
}
const json = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('a JSON object body reaches the route', async () => {
  const r = await call('/echo', json('{"a":1}'));
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { got: { a: 1 } });
});

test('other content types get 415 in the envelope', async () => {
  const r = await call('/echo', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"a":1}' });
  assert.equal(r.status, 415);
  assert.equal(r.body.error?.code, 'unsupported_media_type');
  const none = await call('/echo', { method: 'POST', body: 'x' });
  assert.equal(none.status, 415);
});

test('bodies over the limit get 413', async () => {
  const r = await call('/echo', json(JSON.stringify({ s: 'x'.repeat(2048) })));
  assert.equal(r.status, 413);
  assert.equal(r.body.error?.code, 'payload_too_large');
});

test('malformed JSON and non-object JSON get 400', async () => {
  const r = await call('/echo', json('{"a":'));
  assert.equal(r.status, 400);
  assert.equal(r.body.error?.code, 'invalid_json');
  for (const b of ['[1,2]', '"str"', '12', 'null']) {
    const x = await call('/echo', json(b));
    assert.equal(x.status, 400, b);
    assert.equal(x.body.error?.code, 'invalid_json', b);
  }
});

test('unknown routes get 404 and wrong methods 405, in the envelope', async () => {
  const r = await call('/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body.error?.code, 'not_found');
  const m = await call('/teapot', json('{}'));
  assert.equal(m.status, 405);
  assert.equal(m.body.error?.code, 'method_not_allowed');
});

test('undecodable bodies, forbidden keys and unknown methods get 4xx envelopes, never 500', async () => {
  const gz = await call('/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip' });
  assert.equal(gz.status, 400);
  assert.equal(gz.body.error?.code, 'invalid_body');
  const br = await call('/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'x-custom' }, body: '{}' });
  assert.equal(br.status, 415);
  assert.equal(br.body.error?.code, 'unsupported_media_type');
  const proto = await call('/echo', json('{"__proto__":{"admin":true}}'));
  assert.equal(proto.status, 400);
  assert.equal(proto.body.error?.code, 'invalid_request');
  assert.match(proto.body.error!.message, /"__proto__"/);
});

test('a method no route implements is a 405 with Allow on a path that exists, a 404 elsewhere: never a 5xx', async () => {
  for (const method of ['PROPFIND', 'MKCOL', 'LOCK']) {
    const known = await call('/echo', { method });
    assert.equal(known.status, 405, method);
    assert.equal(known.body.error?.code, 'method_not_allowed');
    assert.equal(known.headers.get('allow'), 'POST');
    const unknown = await call('/nope', { method });
    assert.equal(unknown.status, 404, method);
    assert.equal(unknown.body.error?.code, 'not_found');
    assert.equal(unknown.headers.get('allow'), null);
  }
});

test('a body that is not a JSON object is invalid_json on every route, and body rules are invalid_request', async () => {
  for (const b of ['[{"a":1}]', '', '  ']) {
    const r = await call('/echo', json(b));
    assert.equal(r.status, 400, JSON.stringify(b));
    assert.equal(r.body.error?.code, 'invalid_json', JSON.stringify(b));
  }
  for (const b of ['{"a":1,"a":2}', '{"$where":"1"}', '{"a.b":1}', '{"constructor":{}}', `{"a":${'['.repeat(20)}${']'.repeat(20)}}`]) {
    const r = await call('/echo', json(b));
    assert.equal(r.status, 400, b);
    assert.equal(r.body.error?.code, 'invalid_request', b);
  }
});

test('a RequestError maps to its status, code and headers', async () => {
  const r = await call('/teapot');
  assert.equal(r.status, 418);
  assert.deepEqual(r.body, { error: { code: 'teapot', message: 'short and stout' } });
  assert.equal(r.headers.get('retry-after'), '3');
});

test('an unknown error is a generic 500, logged with its stack but without secrets', async () => {
  const r = await call('/bug');
  assert.equal(r.status, 500);
  assert.deepEqual(r.body, { error: { code: 'internal', message: 'internal server error' } });
  const line = logs.find((l) => l.includes('kaboom'));
  assert.ok(line, 'the 500 is logged');
  assert.ok(!line.includes('supersecret'));
  assert.match(line, /"stack"/);
});

test('requests are recorded by route template, method and status', async () => {
  await call('/teapot');
  const text = await metrics.registry.metrics();
  assert.match(text, /http_request_duration_seconds_count\{service="t",route="\/teapot",method="GET",status="418"\} \d+/);
  assert.match(text, /http_request_duration_seconds_count\{service="t",route="unmatched",method="GET",status="404"\}/);
});
