import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Router from '@koa/router';
import type Koa from 'koa';
import { Admission } from './admission.js';
import { createMeasuredAdmission } from './admission-metrics.js';
import { koaAdmission } from './koa-admission.js';
import { createKoaApp } from './koa-app.js';
import { serveKoa } from './koa-server.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

/**
 * A real Koa server on a real socket: the route `/work` holds its slot until the test lets it
 * go (or for ever), so the answers of refused, admitted and drained requests are what a client
 * gets on the wire.
 */
async function serverWith(admission: Admission, opts: { drainMs?: number; answerWithinMs?: number } = {}) {
  const logs: string[] = [];
  const logger = createLogger({ service: 't', destination: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
  const metrics = createMetrics('t');
  const app = createKoaApp({ logger, metrics, bodyLimitBytes: 1024 });
  const held: Array<() => void> = [];
  const router = new Router();
  const heldWork: Koa.Middleware = async (ctx) => {
    await new Promise<void>((r) => held.push(r));
    ctx.body = { done: true };
  };
  router.get('/work', koaAdmission(admission), heldWork);
  // With an answer deadline; requests carrying ?retry-safe may be refused at it.
  router.get('/deadline', koaAdmission(admission, { answerWithinMs: opts.answerWithinMs, retrySafe: (ctx) => 'retry-safe' in ctx.query }), heldWork);
  router.get('/fails-after-close', koaAdmission(admission), async () => {
    await new Promise<void>((r) => held.push(r));
    throw new Error('MongoClientClosedError-like failure after the drain answered');
  });
  app.use(router.routes()).use(router.allowedMethods());
  const lifecycle = new Lifecycle(logger, 10_000);
  const server = await serveKoa(app, { port: 0, host: '127.0.0.1', lifecycle, logger, drainMs: opts.drainMs ?? 1_000, admission });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string) => {
    const res = await fetch(base + path);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string } } };
  };
  const releaseAll = () => held.splice(0).forEach((r) => r());
  return { get, held, releaseAll, lifecycle, logs, metrics };
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok());
};

describe('koaAdmission on a real server', () => {
  it('past the bound and the wait budget: 503 unavailable with Retry-After, at once; the admitted ones finish', async () => {
    const admission = new Admission({ maxInFlight: 2, maxWaitMs: 50 });
    const s = await serverWith(admission);
    const admitted = [s.get('/work'), s.get('/work')];
    await until(() => s.held.length === 2);
    const started = performance.now();
    const refused = await s.get('/work');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error?.code, 'unavailable');
    assert.equal(refused.retryAfter, '1');
    assert.ok(performance.now() - started < 1_000, 'the refusal came within the budget, not after a client timeout');
    s.releaseAll();
    for (const r of await Promise.all(admitted)) assert.equal(r.status, 200);
    await s.lifecycle.shutdown();
  });

  it('a drain answers the queued at once and the running at the deadline with 503, never 500, and the late failure is not logged as a bug', async () => {
    const admission = createMeasuredAdmission(createMetrics('t').registry, 't', { maxInFlight: 2, maxWaitMs: 5_000 });
    const s = await serverWith(admission, { drainMs: 400 });
    const running = [s.get('/work'), s.get('/fails-after-close')];
    await until(() => s.held.length === 2);
    const queued = s.get('/work');
    await until(() => admission.queued === 1);
    const drained = s.lifecycle.shutdown();
    const q = await queued;
    assert.equal(q.status, 503, 'the queued request is refused at once');
    const answers = await Promise.all(running);
    assert.deepEqual(
      answers.map((a) => [a.status, a.body.error?.code]),
      [
        [503, 'unavailable'],
        [503, 'unavailable'],
      ],
    );
    s.releaseAll(); // the abandoned work ends now, one of them with an error
    await drained;
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(!s.logs.some((l) => l.includes('a 500 is a bug')), s.logs.join(''));
  });

  it('the answer deadline: a retry-safe request still running gets 503 with Retry-After and keeps its slot; another one waits for its answer', { timeout: 10_000 }, async () => {
    const admission = new Admission({ maxInFlight: 2, maxWaitMs: 0 });
    const s = await serverWith(admission, { answerWithinMs: 200 });
    const started = performance.now();
    const safe = s.get('/deadline?retry-safe');
    const unsafe = s.get('/deadline');
    await until(() => s.held.length === 2);
    const refused = await safe;
    const took = performance.now() - started;
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error?.code, 'unavailable');
    assert.equal(refused.retryAfter, '1');
    assert.ok(took >= 190 && took < 1_000, `answered at the deadline (${Math.round(took)} ms)`);
    assert.equal(admission.inFlight, 2, "the refused request's work still holds its slot");
    assert.equal((await s.get('/work')).status, 503, 'so the bound still refuses a third');
    s.releaseAll();
    assert.equal((await unsafe).status, 200, 'the other waited for its work');
    await until(() => admission.inFlight === 0);
    await s.lifecycle.shutdown();
  });

  it('a drain lets running requests finish when they can', async () => {
    const admission = new Admission({ maxInFlight: 2, maxWaitMs: 50 });
    const s = await serverWith(admission, { drainMs: 2_000 });
    const running = s.get('/work');
    await until(() => s.held.length === 1);
    const drained = s.lifecycle.shutdown();
    setTimeout(s.releaseAll, 100);
    assert.equal((await running).status, 200);
    await drained;
  });
});
