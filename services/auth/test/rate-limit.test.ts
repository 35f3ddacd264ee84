import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, sleep, startStack, uniqueName, type RunningService, type Stack } from '@chat/testkit';
import { post } from './support.js';

// Two Auth replicas on one database: the failure counter must be shared, not per process.
const MAX = 4;
const WINDOW_SECONDS = 3;
let stack: Stack;
let a: RunningService;
let b: RunningService;

before(async () => {
  stack = await startStack({ services: [], env: { LOGIN_MAX_FAILURES: String(MAX), LOGIN_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS) } });
  [a, b] = await Promise.all([stack.start('auth'), stack.start('auth')]);
});
after(() => stack?.stop());

async function register() {
  const username = uniqueName('rl');
  const password = 'correct horse battery';
  assert.equal((await post(`${a.url}/register`, { username, password })).status, 201);
  return { username, password };
}

const login = (svc: RunningService, username: string, password: string) => post(`${svc.url}/login`, { username, password });

test('failures split across two replicas add up to a 429 with Retry-After on both', async () => {
  const user = await register();
  const limited0 = (await metricValue(a, 'auth_login_attempts_total', { result: 'rate_limited' })) + (await metricValue(b, 'auth_login_attempts_total', { result: 'rate_limited' }));
  for (let i = 0; i < MAX; i++) {
    const res = await login(i % 2 ? b : a, user.username, `wrong-${i}-password`);
    assert.equal(res.status, 401, `attempt ${i + 1}`);
  }
  for (const svc of [a, b]) {
    const res = await login(svc, user.username, 'wrong-again-password');
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, 'too_many_attempts');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS, `Retry-After ${res.headers.get('retry-after')}`);
  }
  // The right password is refused too while the name is locked: no success oracle for a guesser.
  assert.equal((await login(a, user.username, user.password)).status, 429);
  // Another letter case of the name is the same name.
  assert.equal((await login(b, user.username.toUpperCase(), user.password)).status, 429);
  const limited1 = (await metricValue(a, 'auth_login_attempts_total', { result: 'rate_limited' })) + (await metricValue(b, 'auth_login_attempts_total', { result: 'rate_limited' }));
  assert.equal(limited1 - limited0, 4);
  // Other names are not affected.
  const other = await register();
  assert.equal((await login(b, other.username, other.password)).status, 200);
});

test('after Retry-After the name can log in again', async () => {
  const user = await register();
  for (let i = 0; i < MAX; i++) await login(a, user.username, 'wrong-password');
  const limited = await login(b, user.username, user.password);
  assert.equal(limited.status, 429);
  await sleep(Number(limited.headers.get('retry-after')) * 1000 + 100);
  assert.equal((await login(b, user.username, user.password)).status, 200);
});

test('hammering while locked does not extend the lockout', async () => {
  const user = await register();
  for (let i = 0; i < MAX; i++) await login(a, user.username, 'wrong-password');
  const started = Date.now();
  // Keep trying through the whole window; refused attempts are not recorded as failures.
  while (Date.now() - started < WINDOW_SECONDS * 1000 + 300) {
    const res = await login(Date.now() % 2 ? a : b, user.username, 'wrong-password');
    if (res.status !== 429) break;
    await sleep(100);
  }
  assert.equal((await login(a, user.username, user.password)).status, 200);
});

test('a successful login clears the failures', async () => {
  const user = await register();
  for (let i = 0; i < MAX - 1; i++) assert.equal((await login(a, user.username, 'wrong-password')).status, 401);
  assert.equal((await login(b, user.username, user.password)).status, 200);
  for (let i = 0; i < MAX - 1; i++) assert.equal((await login(b, user.username, 'wrong-password')).status, 401);
  assert.equal((await login(a, user.username, user.password)).status, 200);
});

test('unknown names are limited the same way (a 429 does not reveal that a name exists)', async () => {
  const ghost = uniqueName('ghost');
  for (let i = 0; i < MAX; i++) assert.equal((await login(i % 2 ? a : b, ghost, 'wrong-password')).status, 401);
  assert.equal((await login(a, ghost, 'wrong-password')).status, 429);
});

test('a parallel burst across both replicas gets at most MAX password checks', async () => {
  const user = await register();
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => login(i % 2 ? a : b, user.username, `burst-${i}-password`)));
  const counts = { 401: 0, 429: 0 } as Record<number, number>;
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 24, JSON.stringify(counts));
  // Attempts in flight count against each other, so a burst may be refused entirely, but never
  // gets more than MAX password checks.
  assert.ok((counts[401] ?? 0) <= MAX, JSON.stringify(counts));
});
