/** The failure counter against the real MongoDB-wire server, with a controlled clock. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { ensureInfra } from '@chat/infra';
import { RequestError } from '@chat/common/contracts';
import { createLoginLimiter } from '../src/login-limiter.js';

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

function limiterAt(clock: { t: number }) {
  return createLoginLimiter(db, { maxFailures: 3, windowSeconds: 10, now: () => clock.t });
}

const records = (key: string) => db.collection('login_attempts').countDocuments({ key });

async function refusal(p: Promise<unknown>): Promise<RequestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RequestError);
    return err;
  }
  assert.fail('expected a 429');
}

test('the attempt after max failures in the window is refused with an exact Retry-After', async () => {
  const clock = { t: 1_000_000 };
  const limiter = limiterAt(clock);
  for (let i = 0; i < 3; i++) {
    clock.t = 1_000_000 + i * 1_000;
    await (await limiter.begin('alice')).failed();
  }
  clock.t = 1_003_000;
  const err = await refusal(limiter.begin('alice'));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'too_many_attempts');
  // The oldest failure (t=0 s) leaves the 10 s window at t=10 s: 7 s from now.
  assert.equal(err.headers['retry-after'], '7');
  // The refused attempt left no record behind.
  assert.equal(await records('alice'), 3);
  // Just before the oldest failure expires: still refused, with 1 s to go.
  clock.t = 1_009_500;
  assert.equal((await refusal(limiter.begin('alice'))).headers['retry-after'], '1');
  // Once it has expired, one attempt is let through.
  clock.t = 1_010_001;
  await (await limiter.begin('alice')).failed();
  assert.equal((await refusal(limiter.begin('alice'))).headers['retry-after'], '1');
});

test('a success clears the name; other names are independent', async () => {
  const clock = { t: 2_000_000 };
  const limiter = limiterAt(clock);
  for (let i = 0; i < 3; i++) await (await limiter.begin('bob')).failed();
  await refusal(limiter.begin('bob'));
  await (await limiter.begin('carol')).succeeded();
  clock.t += 11_000;
  await (await limiter.begin('bob')).succeeded();
  assert.equal(await records('bob'), 0);
});

test('a failure prunes its own expired records, and prune() sweeps the rest', async () => {
  const clock = { t: 3_000_000 };
  const limiter = limiterAt(clock);
  for (let i = 0; i < 3; i++) await (await limiter.begin('dave')).failed();
  await (await limiter.begin('erin')).failed();
  clock.t += 20_000;
  await (await limiter.begin('dave')).failed();
  assert.equal(await records('dave'), 1);
  assert.equal(await records('erin'), 1);
  assert.ok((await limiter.prune()) >= 1);
  assert.equal(await records('erin'), 0);
  assert.equal(await records('dave'), 1);
});

test('a concurrent burst is admitted at most max times', async () => {
  const limiter = createLoginLimiter(db, { maxFailures: 3, windowSeconds: 60 });
  const results = await Promise.allSettled(Array.from({ length: 30 }, () => limiter.begin('frank')));
  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  // Every attempt counts the others in flight, so a burst errs on the side of refusing
  // (possibly all of it), never of letting more than max through.
  assert.ok(admitted <= 3, `admitted ${admitted}`);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as RequestError).status, 429);
  // Refused attempts leave nothing behind, so the burst does not lock the name by itself.
  assert.equal(await records('frank'), admitted);
  if (admitted < 3) await (await limiter.begin('frank')).succeeded();
});
