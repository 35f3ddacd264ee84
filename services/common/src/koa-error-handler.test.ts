// A method the router does not implement is the client's mistake, never a 5xx. Found by the
// schemathesis gate (tests/system/schemathesis.test.ts): TRACE, a standard method, answered 501
// `not_implemented` on every Auth and Chat route, because koa-router answers 501 to any method
// outside its own list. fetch refuses to send TRACE, so these requests go through node:http.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, request } from 'node:http';
import { Writable } from 'node:stream';
import Router from '@koa/router';
import { createKoaApp } from './koa-app.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

const logger = createLogger({ service: 't', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const app = createKoaApp({ logger, metrics: createMetrics('t'), bodyLimitBytes: 1024 });
const router = new Router();
router.get('/thing', (ctx) => {
  ctx.body = { ok: true };
});
router.post('/thing', (ctx) => {
  ctx.body = { ok: true };
});
app.use(router.routes()).use(router.allowedMethods());
const server = createServer(app.callback());
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as AddressInfo;
after(() => server.close());

function send(method: string, path: string): Promise<{ status: number; allow: string | undefined; body: { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('TRACE on a route that exists is 405 method_not_allowed, with Allow naming what it takes', async () => {
  const r = await send('TRACE', '/thing');
  assert.equal(r.status, 405);
  assert.equal(r.body.error?.code, 'method_not_allowed');
  assert.equal(r.allow, 'HEAD, GET, POST');
});

test('TRACE on a path no route has is 404 not_found, without an Allow', async () => {
  const r = await send('TRACE', '/nothing');
  assert.equal(r.status, 404);
  assert.equal(r.body.error?.code, 'not_found');
  assert.equal(r.allow, undefined);
});

test('every method no route implements gets 405 or 404, never a 5xx', async () => {
  for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'PURGE', 'SEARCH', 'REPORT']) {
    for (const path of ['/thing', '/nothing']) {
      const r = await send(method, path);
      assert.ok(r.status === 405 || r.status === 404, `${method} ${path}: ${r.status}`);
    }
  }
});
