/**
 * Auth with its database missing at start, then lost and regained while running. The database is
 * the real server behind a TCP proxy this test opens and cuts, so nothing shared is disturbed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceTokenSource } from '@chat/common/jwt';
import { freePort, request, startStack, uniqueName, waitFor, type RunningService, type Stack } from '@chat/testkit';
import { mongoProxy, post, type TcpProxy } from './support.js';

let stack: Stack;
let proxy: TcpProxy;
let auth: RunningService;
const username = uniqueName('outage');
const password = 'outage-password';

before(async () => {
  stack = await startStack({ services: [] });
  proxy = await mongoProxy(stack.infra.mongoUrl, await freePort());
  // Also without a signing key, which outside production means an ephemeral one and a warning.
  auth = await stack.start('auth', { env: { MONGO_URL: proxy.url, MONGO_TIMEOUT_MS: '500', JWT_PRIVATE_KEY: '' } });
});
after(async () => {
  await proxy?.down();
  await stack?.stop();
});

async function expectOutage() {
  const ready = await request(`${auth.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.body.error.details.checks.database, false);
  const service = await createServiceTokenSource('gateway', stack.env.SERVICE_TOKEN_SECRET!)();
  const calls = await Promise.all([
    post(`${auth.url}/register`, { username: uniqueName('down'), password }),
    post(`${auth.url}/login`, { username, password }),
    request(`${auth.url}/users/${username}`, { token: service }),
  ]);
  for (const res of calls) {
    assert.equal(res.status, 503, res.text);
    assert.deepEqual(res.body, { error: { code: 'unavailable', message: 'the user database is unreachable, retry shortly' } });
  }
  // Liveness and what does not need the database are unaffected.
  assert.equal((await request(`${auth.url}/healthz`)).status, 200);
  assert.equal((await request(`${auth.url}/.well-known/jwks.json`)).status, 200);
}

const readyAgain = () => waitFor('readyz 200', async () => (await request(`${auth.url}/readyz`)).status === 200, 15_000, 200);

test('started without a database: alive, not ready, 503 (never 500) where the database is needed', async () => {
  assert.match(auth.output(), /"level":"warn".*JWT_PRIVATE_KEY is not set/);
  await expectOutage();
});

test('the database appears later: ready without a restart', async () => {
  await proxy.up();
  await readyAgain();
  assert.equal((await post(`${auth.url}/register`, { username, password })).status, 201);
  assert.equal((await post(`${auth.url}/login`, { username, password })).status, 200);
});

test('the database goes away while running, then comes back', async () => {
  await proxy.down();
  await expectOutage();
  await proxy.up();
  await readyAgain();
  assert.equal((await post(`${auth.url}/login`, { username, password })).status, 200);
  assert.doesNotMatch(auth.output(), /"level":"error"/);
});
