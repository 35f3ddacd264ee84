/** The compare-and-swap records against the real MongoDB-wire server: no lost update under a burst. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { ensureInfra } from '@chat/infra';
import { createLimitRecords, LimitRecordContention, SWEEP_GRACE_MS } from '../src/limit-records.js';

let client: MongoClient;
let db: Db;

before(async () => {
  const infra = await ensureInfra({ quiet: true });
  client = new MongoClient(infra.mongoUrl);
  db = client.db(`t_auth_records_${randomBytes(4).toString('hex')}`);
});
after(async () => {
  await db?.dropDatabase();
  await client?.close();
});

const increment = (cur: number | undefined) => ({ write: (cur ?? 0) + 1, expiresAt: Date.now() + 60_000, result: (cur ?? 0) + 1 });

test('40 concurrent increments from two clients (two processes\' worth of connections) lose none', async () => {
  const other = new MongoClient((await ensureInfra({ quiet: true })).mongoUrl);
  try {
    const a = createLimitRecords(db, 'records');
    const b = createLimitRecords(other.db(db.databaseName), 'records');
    await a.ensureIndexes();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).update<number, number>('burst', increment)));
    // Each writer saw a distinct value: exactly one write per version.
    assert.deepEqual([...results].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i + 1));
    assert.equal(await a.read<number>('burst'), 40);
  } finally {
    await other.close();
  }
});

test('a change that writes nothing returns its result; superseded versions go once past the grace', async () => {
  const records = createLimitRecords(db, 'records', { graceMs: 100 });
  for (let i = 0; i < 5; i++) await records.update<number, number>('k', increment);
  assert.equal(await records.update<number, string>('k', (cur) => ({ result: `saw ${cur}` })), 'saw 5');
  const versions = () => db.collection('records').countDocuments({ key: 'k' });
  // Within the grace every version stays (a slow writer may still be acting on one of them).
  assert.equal(await versions(), 5);
  await new Promise((r) => setTimeout(r, 150));
  await records.update<number, number>('k', increment);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await versions(), 1);
  assert.equal(await records.read('k'), 6);
});

test('contention past maxTries throws LimitRecordContention', async () => {
  const records = createLimitRecords(db, 'records', { maxTries: 1 });
  await records.update<number, number>('hot', increment);
  // Forty writers, one try each: the ones that lose their only race give up.
  const results = await Promise.allSettled(Array.from({ length: 40 }, () => records.update<number, number>('hot', increment)));
  const lost = results.filter((r) => r.status === 'rejected');
  assert.ok(lost.length > 0, 'no writer lost a race');
  for (const r of lost) assert.ok((r as PromiseRejectedResult).reason instanceof LimitRecordContention);
  assert.equal(await records.read<number>('hot'), 1 + results.filter((r) => r.status === 'fulfilled').length);
});

test('the sweep deletes records expired for longer than the grace, and nothing else; expiry never moves back', async () => {
  const records = createLimitRecords(db, 'records');
  const now = Date.now();
  await records.update<number, void>('old', () => ({ write: 1, expiresAt: now - SWEEP_GRACE_MS - 1, result: undefined }));
  await records.update<number, void>('recent', () => ({ write: 1, expiresAt: now - 1, result: undefined }));
  assert.ok((await records.sweep(now)) >= 1);
  assert.equal(await records.read('old'), undefined);
  assert.equal(await records.read('recent'), 1);
  // A later version that asks for an earlier expiry keeps the record's: no older version outlives the newest.
  await records.update<number, void>('recent', () => ({ write: 2, expiresAt: now - SWEEP_GRACE_MS - 1, result: undefined }));
  await records.sweep(now);
  assert.equal(await records.read('recent'), 2);
});
