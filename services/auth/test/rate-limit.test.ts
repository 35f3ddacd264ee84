/**
 * The login failure limits across two Auth processes sharing one database. Both trust one proxy
 * hop (TRUST_PROXY_HOPS=1), so each request's X-Forwarded-For stands for the client address a
 * proxy in front would have written: that is how one test machine plays an attacker and the
 * real user on different addresses. (services/auth/test/abuse-limits.test.ts checks that the
 * header is ignored without that setting.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, sleep, startStack, uniqueName, type RunningService, type Stack } from '@chat/testkit';

const MAX = 4;
const WINDOW_SECONDS = 3;
const DELAY_AFTER = 6;
let stack: Stack;
let a: RunningService;
let b: RunningService;

before(async () => {
  stack = await startStack({
    services: [],
    env: {
      TRUST_PROXY_HOPS: '1',
      LOGIN_MAX_FAILURES: String(MAX),
      LOGIN_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS),
      LOGIN_DELAY_AFTER_FAILURES: String(DELAY_AFTER),
      LOGIN_DELAY_MAX_SECONDS: '2',
    },
  });
  [a, b] = await Promise.all([stack.start('auth'), stack.start('auth')]);
});
after(() => stack?.stop());

let nextAddress = 0;
/** A fresh client address (TEST-NET-2), as the proxy would write it. */
const newAddress = () => `198.51.${100 + (nextAddress >> 8)}.${nextAddress++ & 255}`;

async function register() {
  const username = uniqueName('rl');
  const password = 'correct horse battery';
  assert.equal((await request(`${a.url}/register`, { body: { username, password } })).status, 201);
  return { username, password };
}

const login = (svc: RunningService, from: string, username: string, password: string) =>
  request(`${svc.url}/login`, { body: { username, password }, headers: { 'x-forwarded-for': from } });

const rateLimited = async () => (await metricValue(a, 'auth_login_attempts_total', { result: 'rate_limited' })) + (await metricValue(b, 'auth_login_attempts_total', { result: 'rate_limited' }));

test('failures from one address, split across the two processes, add up to a 429 on both; the real user elsewhere logs in', async () => {
  const user = await register();
  const attacker = newAddress();
  const limited0 = await rateLimited();
  for (let i = 0; i < MAX; i++) assert.equal((await login(i % 2 ? b : a, attacker, user.username, `wrong-${i}-password`)).status, 401, `attempt ${i + 1}`);
  for (const svc of [a, b]) {
    const res = await login(svc, attacker, user.username, 'wrong-again-password');
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, 'too_many_attempts');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW_SECONDS, `Retry-After ${res.headers.get('retry-after')}`);
  }
  // From the attacker's address the right password is refused too (no success oracle), in any letter case.
  assert.equal((await login(a, attacker, user.username, user.password)).status, 429);
  assert.equal((await login(b, attacker, user.username.toUpperCase(), user.password)).status, 429);
  assert.equal((await rateLimited()) - limited0, 4);
  // The real user, from their own address, is not locked out by any of it.
  assert.equal((await login(b, newAddress(), user.username, user.password)).status, 200);
});

test('after Retry-After the address may try again; hammering while refused does not extend it', async () => {
  const user = await register();
  const attacker = newAddress();
  for (let i = 0; i < MAX; i++) await login(a, attacker, user.username, 'wrong-password');
  const started = Date.now();
  let res = await login(b, attacker, user.username, user.password);
  assert.equal(res.status, 429);
  while (res.status === 429 && Date.now() - started < WINDOW_SECONDS * 1000 + 1_000) {
    await sleep(100);
    res = await login(Date.now() % 2 ? a : b, attacker, user.username, user.password);
  }
  assert.equal(res.status, 200);
  assert.ok(Date.now() - started <= WINDOW_SECONDS * 1000 + 500, 'refused attempts extended the window');
});

test('a parallel burst across both processes gets exactly MAX password checks', async () => {
  const user = await register();
  const attacker = newAddress();
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => login(i % 2 ? a : b, attacker, user.username, `burst-${i}-password`)));
  const counts: Record<number, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  assert.deepEqual(counts, { 401: MAX, 429: 24 - MAX });
});

test('a guesser spread over many addresses meets progressive delays; the user\'s own address never does', async () => {
  const user = await register();
  const home = newAddress();
  assert.equal((await login(a, home, user.username, user.password)).status, 200);
  for (let i = 0; i < DELAY_AFTER; i++) assert.equal((await login(i % 2 ? a : b, newAddress(), user.username, 'wrong-password')).status, 401);
  const delayed = await login(b, newAddress(), user.username, 'wrong-password');
  assert.equal(delayed.status, 429);
  assert.equal(delayed.body.error.code, 'too_many_attempts');
  assert.match(delayed.body.error.message, /delayed/);
  assert.equal(delayed.headers.get('retry-after'), '1');
  // Unknown addresses wait, even with the right password; home goes straight through, on either process.
  assert.equal((await login(a, newAddress(), user.username, user.password)).status, 429);
  assert.equal((await login(a, home, user.username, user.password)).status, 200);
  assert.equal((await login(b, home, user.username, user.password)).status, 200);
  await sleep(1_100);
  // The delay passed: one more guess gets through, and the next delay is longer (2 s, the cap here).
  assert.equal((await login(b, newAddress(), user.username, 'wrong-password')).status, 401);
  assert.equal((await login(a, newAddress(), user.username, 'wrong-password')).headers.get('retry-after'), '2');
});

test('unknown names are limited the same way (a 429 does not reveal that a name exists)', async () => {
  const ghost = uniqueName('ghost');
  const attacker = newAddress();
  for (let i = 0; i < MAX; i++) assert.equal((await login(i % 2 ? a : b, attacker, ghost, 'wrong-password')).status, 401);
  assert.equal((await login(a, attacker, ghost, 'wrong-password')).status, 429);
});
