/**
 * What bounds the unauthenticated bcrypt work, against real Auth processes: the rate per client
 * address (429 too_many_requests), the registrations per address (429 too_many_requests), the
 * process's bcrypt capacity (503 unavailable), and which address is counted with and without a
 * trusted proxy in front. The test stacks' generous defaults (@chat/testkit) are replaced here by
 * small limits, one process per setting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, startStack, uniqueName, type Stack } from '@chat/testkit';

let stack: Stack;
before(async () => {
  stack = await startStack({ services: [] });
});
after(() => stack?.stop());

const body = (username = uniqueName('ab')) => ({ username, password: 'correct horse battery' });
const post = (url: string, path: string, json: unknown, headers: Record<string, string> = {}) => request(`${url}${path}`, { body: json, headers });

test('an address gets ADDRESS_ATTEMPTS_PER_MINUTE logins and registrations together, then 429 too_many_requests; X-Forwarded-For is ignored without TRUST_PROXY_HOPS', async () => {
  const auth = await stack.start('auth', { env: { ADDRESS_ATTEMPTS_PER_MINUTE: '4' } });
  try {
    const user = body();
    assert.equal((await post(auth.url, '/register', user)).status, 201);
    assert.equal((await post(auth.url, '/login', user)).status, 200);
    assert.equal((await post(auth.url, '/login', { ...user, password: 'wrong password' })).status, 401);
    assert.equal((await post(auth.url, '/login', body())).status, 401);
    for (const path of ['/login', '/register']) {
      // A forged header does not make the same client a new address.
      const res = await post(auth.url, path, body(), { 'x-forwarded-for': '203.0.113.77' });
      assert.equal(res.status, 429, path);
      assert.equal(res.body.error.code, 'too_many_requests');
      assert.match(res.body.error.message, /too many login and registration attempts from this address/);
      // 4 per minute: one more every 15 s.
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 14 && retryAfter <= 15, `Retry-After ${retryAfter}`);
    }
    assert.equal(await metricValue(auth, 'auth_limit_refusals_total', { limit: 'address_attempts' }), 2);
  } finally {
    await auth.stop();
  }
});

test('an address gets ADDRESS_REGISTRATIONS_PER_HOUR registrations, then 429 too_many_requests', async () => {
  const auth = await stack.start('auth', { env: { ADDRESS_REGISTRATIONS_PER_HOUR: '2' } });
  try {
    assert.equal((await post(auth.url, '/register', body())).status, 201);
    assert.equal((await post(auth.url, '/register', body())).status, 201);
    const res = await post(auth.url, '/register', body());
    assert.equal(res.status, 429);
    assert.equal(res.body.error.code, 'too_many_requests');
    assert.match(res.body.error.message, /too many registrations from this address/);
    assert.equal(res.headers.get('retry-after'), '1800');
    // Logging in is a separate budget.
    assert.equal((await post(auth.url, '/login', body())).status, 401);
    assert.equal(await metricValue(auth, 'auth_limit_refusals_total', { limit: 'address_registrations' }), 1);
  } finally {
    await auth.stop();
  }
});

test('behind TRUST_PROXY_HOPS=1 the address is the entry the proxy appended, and entries left of it cannot be forged', async () => {
  const auth = await stack.start('auth', { env: { TRUST_PROXY_HOPS: '1', ADDRESS_ATTEMPTS_PER_MINUTE: '2' } });
  try {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 2; i++) assert.equal((await post(auth.url, '/login', body(), from('192.0.2.10'))).status, 401);
    assert.equal((await post(auth.url, '/login', body(), from('192.0.2.10'))).status, 429);
    // The client wrote "198.51.100.1" itself; the proxy appended the real 192.0.2.10.
    assert.equal((await post(auth.url, '/login', body(), from('198.51.100.1, 192.0.2.10'))).status, 429);
    // Another client behind the same proxy has its own budget; an IPv6 client's is its /64.
    assert.equal((await post(auth.url, '/login', body(), from('192.0.2.11'))).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await post(auth.url, '/login', body(), from(`2001:db8:1:2::${i + 1}`))).status, 401);
    assert.equal((await post(auth.url, '/login', body(), from('2001:db8:1:2:ffff::9'))).status, 429);
    assert.equal((await post(auth.url, '/login', body(), from('2001:db8:1:3::1'))).status, 401);
  } finally {
    await auth.stop();
  }
});

test('past the bcrypt capacity (BCRYPT_MAX_CONCURRENT + BCRYPT_MAX_QUEUED) requests get 503 unavailable with Retry-After at once, never a 500 or a hang', async () => {
  // The default cost (12, about 250 ms a hash), so a burst really overlaps.
  const auth = await stack.start('auth', { env: { BCRYPT_COST: '12', BCRYPT_MAX_CONCURRENT: '1', BCRYPT_MAX_QUEUED: '1' } });
  try {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 8 }, () => post(auth.url, '/login', body())));
    const statuses = results.map((r) => r.status).sort();
    assert.ok(statuses.every((s) => s === 401 || s === 503), statuses.join(' '));
    const refused = results.filter((r) => r.status === 503);
    assert.ok(refused.length >= 5 && refused.length <= 6, statuses.join(' '));
    for (const r of refused) {
      assert.equal(r.body.error.code, 'unavailable');
      assert.equal(r.headers.get('retry-after'), '1');
    }
    // Two hashes at most, one after the other.
    assert.ok(performance.now() - started < 5_000);
    assert.equal(await metricValue(auth, 'auth_limit_refusals_total', { limit: 'bcrypt_capacity' }), refused.length);
    // The capacity is free again afterwards.
    assert.equal((await post(auth.url, '/login', body())).status, 401);
  } finally {
    await auth.stop();
  }
});
