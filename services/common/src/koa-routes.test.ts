import { test } from 'node:test';
import assert from 'node:assert/strict';
import Koa from 'koa';
import Router from '@koa/router';
import { koaRoutes, openApiPath } from './koa-routes.js';

test('koaRoutes: every method and path of every mounted router, prefixes included, HEAD and plain middleware left out', () => {
  const app = new Koa();
  const plain = new Router();
  plain.get('/healthz', (ctx) => void (ctx.body = 'ok'));
  const prefixed = new Router({ prefix: '/things' });
  prefixed.use((_ctx, next) => next());
  prefixed.get('/', (ctx) => void (ctx.body = []));
  prefixed.post('/:id/parts', (ctx) => void (ctx.body = {}));
  prefixed.delete('/:id/parts/:part', (ctx) => void (ctx.status = 204));
  app.use(plain.routes()).use(plain.allowedMethods());
  app.use(prefixed.routes()).use(prefixed.allowedMethods());
  app.use((_ctx, next) => next());

  assert.deepEqual(koaRoutes(app), [
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/things' },
    { method: 'POST', path: '/things/:id/parts' },
    { method: 'DELETE', path: '/things/:id/parts/:part' },
  ]);
});

test('koaRoutes: an app without routers serves no routes', () => {
  const app = new Koa();
  app.use((ctx) => void (ctx.body = 'hi'));
  assert.deepEqual(koaRoutes(app), []);
});

test('openApiPath: Koa parameters become OpenAPI templates', () => {
  assert.equal(openApiPath('/conversations/:id/members/:username'), '/conversations/{id}/members/{username}');
  assert.equal(openApiPath('/.well-known/jwks.json'), '/.well-known/jwks.json');
});
