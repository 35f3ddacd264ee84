import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, runUntilExit, sleep, startStack, uniqueName, waitFor, type Stack } from '@chat/testkit';
import { post } from './support.js';

let stack: Stack;

before(async () => {
  stack = await startStack({ services: [] });
});
after(() => stack?.stop());

test('SIGTERM: readiness fails first, in-flight requests finish, then the process exits 0', async () => {
  // Cost 13 makes a register take ~0.5 s, long enough to be in flight across the signal.
  const auth = await stack.start('auth', { env: { BCRYPT_COST: '13', SHUTDOWN_DELAY_MS: '1500' } });
  assert.equal((await request(`${auth.url}/readyz`)).status, 200);

  const first = post(`${auth.url}/register`, { username: uniqueName('inflight'), password: 'password-one' });
  await sleep(100);
  auth.proc.kill('SIGTERM');
  // Readiness fails at once, while the listener still serves (the delay lets load balancers notice).
  const ready = await waitFor('readyz to fail', async () => {
    const res = await request(`${auth.url}/readyz`);
    return res.status === 503 ? res : undefined;
  }, 1_000, 20);
  assert.equal(ready.body.error.code, 'not_ready');
  assert.equal(ready.body.error.details.checks.draining, false);
  assert.equal((await request(`${auth.url}/healthz`)).status, 200);

  // A request that starts just before the listener closes is still answered.
  await sleep(1_100);
  const second = post(`${auth.url}/register`, { username: uniqueName('inflight'), password: 'password-two' });
  const [r1, r2] = await Promise.all([first, second]);
  assert.equal(r1.status, 201, r1.text);
  assert.equal(r2.status, 201, r2.text);

  assert.equal(await auth.exited, 0);
  await assert.rejects(fetch(`${auth.url}/healthz`));
  assert.match(auth.output(), /shutdown complete/);
});

test('without MONGO_URL it stops at start with a ConfigError naming it', async () => {
  const { code, output } = await runUntilExit('auth', { ...stack.env, MONGO_URL: '' });
  assert.equal(code, 1);
  assert.match(output, /"level":"fatal".*Invalid configuration: MONGO_URL is required/);
});

test('in production, a missing signing key is a ConfigError, not an ephemeral key', async () => {
  const { code, output } = await runUntilExit('auth', { ...stack.env, NODE_ENV: 'production', JWT_PRIVATE_KEY: '' });
  assert.equal(code, 1);
  assert.match(output, /"level":"fatal".*Invalid configuration: JWT_PRIVATE_KEY is required in production/);
  assert.doesNotMatch(output, /listening/);
});

test('a malformed signing key stops the start without printing the key', async () => {
  const garbage = '-----BEGIN PRIVATE KEY-----\\nbm90IGEga2V5IGF0IGFsbA==\\n-----END PRIVATE KEY-----';
  const { code, output } = await runUntilExit('auth', { ...stack.env, JWT_PRIVATE_KEY: garbage });
  assert.equal(code, 1);
  assert.match(output, /Invalid configuration: JWT_PRIVATE_KEY is not a private key/);
  assert.doesNotMatch(output, /bm90IGEga2V5/);
});
