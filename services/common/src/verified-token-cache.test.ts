import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cachingTokenVerifier } from './verified-token-cache.js';

interface User {
  id: string;
  exp: number;
}

/** A verifier that accepts tokens named `ok:<id>:<exp seconds>` and counts its checks. */
function countingVerifier() {
  const checks: string[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const verify = async (token: string): Promise<User> => {
    checks.push(token);
    if (gate) await gate;
    const [kind, id, exp] = token.split(':');
    if (kind !== 'ok') throw new Error('invalid token');
    return { id: id!, exp: Number(exp) };
  };
  return {
    verify,
    checks,
    hold: () => void (gate = new Promise<void>((r) => (release = r))),
    release: () => (release?.(), (gate = undefined)),
  };
}

test('an accepted token is checked once, then answered from the cache until maxAgeMs', async () => {
  let now = 1_000_000;
  const v = countingVerifier();
  const verify = cachingTokenVerifier(v.verify, { maxAgeMs: 60_000, now: () => now });
  const token = `ok:u1:${now / 1000 + 3600}`;
  assert.deepEqual(await verify(token), { id: 'u1', exp: now / 1000 + 3600 });
  now += 59_999;
  assert.deepEqual(await verify(token), { id: 'u1', exp: 1_000 + 3600 });
  assert.equal(v.checks.length, 1);
  now += 1;
  await verify(token);
  assert.equal(v.checks.length, 2, 'checked in full again once maxAgeMs passed');
});

test("an entry ends at the token's exp: past it the full check decides", async () => {
  let now = 1_000_000;
  const v = countingVerifier();
  const verify = cachingTokenVerifier(v.verify, { maxAgeMs: 60_000, now: () => now });
  const exp = now / 1000 + 10;
  await verify(`ok:u1:${exp}`);
  now = exp * 1000 - 1;
  await verify(`ok:u1:${exp}`);
  assert.equal(v.checks.length, 1);
  now = exp * 1000;
  await verify(`ok:u1:${exp}`);
  assert.equal(v.checks.length, 2);
});

test('a refused token is never kept: each attempt is checked in full', async () => {
  const v = countingVerifier();
  const verify = cachingTokenVerifier(v.verify, { now: () => 0 });
  for (let i = 0; i < 3; i++) await assert.rejects(verify('forged:u1:99'), /invalid token/);
  assert.equal(v.checks.length, 3);
});

test('concurrent checks of one token share one verification, and share its refusal', async () => {
  const v = countingVerifier();
  const verify = cachingTokenVerifier(v.verify, { now: () => 0 });
  v.hold();
  const answers = Promise.all([verify('ok:u1:99'), verify('ok:u1:99'), verify('ok:u1:99')]);
  v.release();
  assert.deepEqual((await answers).map((u) => u.id), ['u1', 'u1', 'u1']);
  assert.equal(v.checks.length, 1);

  v.hold();
  const refused = Promise.allSettled([verify('bad:u2:99'), verify('bad:u2:99')]);
  v.release();
  assert.deepEqual((await refused).map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(v.checks.length, 2);
  await assert.rejects(verify('bad:u2:99'));
  assert.equal(v.checks.length, 3, 'the shared refusal was not kept');
});

test('at most maxEntries tokens are kept, the oldest inserted evicted first', async () => {
  const v = countingVerifier();
  const verify = cachingTokenVerifier(v.verify, { maxEntries: 2, now: () => 0 });
  await verify('ok:a:99');
  await verify('ok:b:99');
  await verify('ok:c:99'); // evicts a
  await verify('ok:b:99');
  await verify('ok:c:99');
  assert.equal(v.checks.length, 3);
  await verify('ok:a:99');
  assert.equal(v.checks.length, 4);
});
