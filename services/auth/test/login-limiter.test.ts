/** The failure limits against the real MongoDB-wire server, with a controlled clock. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { ensureInfra } from '@chat/infra';
import { RequestError } from '@chat/common/contracts';
import { createLoginLimiter, type LoginLimiterOptions } from '../src/login-limiter.js';

let client: MongoClient;
let db: Db;

before(async () => {
  const infra = await ensureInfra({ quiet: true });
  client = new MongoClient(infra.mongoUrl);
  db = client.db(`t_auth_limiter_${randomBytes(4).toString('hex')}`);
});
after(async () => {
  await db?.dropDatabase();
  await client?.close();
});

const OPTIONS: LoginLimiterOptions = { maxFailures: 3, windowSeconds: 10, delayAfterFailures: 4, delayMaxSeconds: 8, knownAddressDays: 30 };

function limiterAt(clock: { t: number }, opts: Partial<LoginLimiterOptions> = {}) {
  return createLoginLimiter(db, { ...OPTIONS, ...opts, now: () => clock.t });
}

async function refusal(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RequestError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'too_many_attempts');
    return err;
  }
  assert.fail('expected a 429');
}

const fail = async (limiter: ReturnType<typeof limiterAt>, name: string, address: string) => (await limiter.begin(name, address)).failed();
const succeed = async (limiter: ReturnType<typeof limiterAt>, name: string, address: string) => (await limiter.begin(name, address)).succeeded();

test('per name and address: max failures in the window, then 429 until the window ends; other addresses unaffected', async () => {
  const clock = { t: 1_000_000 };
  const limiter = limiterAt(clock, { delayAfterFailures: 100 });
  for (let i = 0; i < 3; i++) {
    clock.t = 1_000_000 + i * 1_000;
    await fail(limiter, 'alice', '192.0.2.1');
  }
  clock.t = 1_003_000;
  const err = await refusal(limiter.begin('alice', '192.0.2.1'));
  // The window started with the first failure (t = 0 s) and ends at 10 s: 7 s from now.
  assert.equal(err.headers['retry-after'], '7');
  assert.match(err.message, /from this address/);
  // The real user elsewhere is not locked out by the attacker.
  await succeed(limiter, 'alice', '198.51.100.9');
  // Refused attempts change nothing: still 1 s to go just before the end, and free after it.
  clock.t = 1_009_500;
  assert.equal((await refusal(limiter.begin('alice', '192.0.2.1'))).headers['retry-after'], '1');
  clock.t = 1_010_000;
  await fail(limiter, 'alice', '192.0.2.1');
});

test('a success from an address clears its failures for that name', async () => {
  const clock = { t: 2_000_000 };
  const limiter = limiterAt(clock, { delayAfterFailures: 100 });
  for (let i = 0; i < 2; i++) await fail(limiter, 'bob', '192.0.2.1');
  await succeed(limiter, 'bob', '192.0.2.1');
  for (let i = 0; i < 3; i++) await fail(limiter, 'bob', '192.0.2.1');
  await refusal(limiter.begin('bob', '192.0.2.1'));
});

test('per name, from unknown addresses: progressive delays, never for an address the user logged in from', async () => {
  const clock = { t: 3_000_000 };
  const limiter = limiterAt(clock);
  // The real user logs in from home once: that address is known from then on.
  await succeed(limiter, 'carol', '203.0.113.5');
  // An attacker spread over many addresses (each under its own limit of 3).
  let address = 0;
  const attacker = () => `192.0.2.${++address}`;
  for (let i = 0; i < 4; i++) await fail(limiter, 'carol', attacker());
  // After the 4th failure the name waits 1 s, then 2 s, 4 s, and at most 8 s, for unknown addresses.
  for (const seconds of [1, 2, 4, 8, 8]) {
    const err = await refusal(limiter.begin('carol', attacker()));
    assert.equal(err.headers['retry-after'], String(seconds));
    assert.match(err.message, /delayed/);
    // The real user at home is never delayed, whatever the attacker does.
    await succeed(limiter, 'carol', '203.0.113.5');
    clock.t += seconds * 1000;
    await fail(limiter, 'carol', attacker());
  }
  // A window with no failure forgets the streak.
  clock.t += 8_000 + 10_000;
  for (let i = 0; i < 4; i++) await fail(limiter, 'carol', attacker());
  assert.equal((await refusal(limiter.begin('carol', attacker()))).headers['retry-after'], '1');
});

test('a concurrent burst gets exactly max password checks, and the name is not locked by fewer', async () => {
  const limiter = createLoginLimiter(db, { ...OPTIONS, maxFailures: 5, delayAfterFailures: 100 });
  const results = await Promise.allSettled(Array.from({ length: 30 }, () => limiter.begin('dave', '192.0.2.1')));
  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as RequestError).status, 429);
  assert.equal(admitted, 5, `admitted ${admitted}`);
  await refusal(limiter.begin('dave', '192.0.2.1'));
});

test('stored state is bounded: one record per name and per pair, swept after the window', async () => {
  const clock = { t: 5_000_000 };
  const limiter = limiterAt(clock);
  for (let i = 0; i < 3; i++) await fail(limiter, 'erin', '192.0.2.1');
  for (let i = 0; i < 3; i++) await fail(limiter, `ghost${i}`, '192.0.2.1');
  const records = db.collection('login_limits');
  // erin: her pair and her name; each ghost: a pair and a name (superseded versions of a record
  // stay for a minute, see limit-records.ts).
  assert.deepEqual((await records.distinct('key', { key: /erin|ghost/ })).sort(), [
    'name:erin', 'name:ghost0', 'name:ghost1', 'name:ghost2', 'pair:erin|192.0.2.1', 'pair:ghost0|192.0.2.1', 'pair:ghost1|192.0.2.1', 'pair:ghost2|192.0.2.1',
  ]);
  // Past the window and the sweep's grace, the sweep deletes them all.
  clock.t += 10_000 + 60_000 + 1;
  assert.ok((await limiter.prune()) >= 8);
  assert.equal(await records.countDocuments({ key: /erin|ghost/ }), 0);
});
