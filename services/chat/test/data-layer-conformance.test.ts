/**
 * The data layer's contract, run on the local default database and, when a Docker engine
 * answers, on a throwaway mongo:7 (what deployments use): the unique-index guard, gap-free
 * positions across replicas, repeats found, pages across buckets, and every read keyed on
 * one selective field (mongo-portability.ts). Without Docker the mongo:7 run is skipped, and
 * the test summary says so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoBulkWriteError, MongoClient, ObjectId, type CommandStartedEvent, type Db } from 'mongodb';
import { startScratchMongo } from '@chat/infra';
import { stackEnv } from '@chat/testkit';
import { BUCKET_SIZE, InsertBatcher, insertIgnoringRepeats, isDatabaseOutage, isDuplicateKey } from '@chat/common/mongo';
import { createBucketedSequence, sequenceIndex } from '../src/bucketed-sequence.js';
import { directConversationId } from '../src/conversation-id.js';
import { idempotencyKey, type NewMessageDoc } from '../src/message.js';
import { createMessagesRepository } from '../src/messages-repo.js';
import { createTimeline } from '../src/timeline.js';
import { tcpRelay } from './tcp-relay.js';

const scratch = await startScratchMongo().catch((err: unknown) => {
  throw new Error(`a Docker engine answers but mongo:7 did not start: ${String(err)}`);
});
if (!scratch) console.log('# conformance-skip: no Docker engine answers, so the data layer contract ran on the local default only, not on mongo:7');

const targets: Array<{ name: string; url: () => Promise<string>; skip?: string }> = [
  { name: 'the local default database', url: async () => (await stackEnv()).env.MONGO_URL! },
  scratch ? { name: 'mongo:7', url: async () => scratch.url } : { name: 'mongo:7', url: async () => '', skip: 'no Docker engine answers' },
];
after(async () => scratch?.stop());

for (const target of targets) {
  describe(`data layer contract on ${target.name}`, { skip: target.skip ?? false }, () => contract(target.url));
}

interface Item {
  _id: string;
  key: string;
  n: number;
}

async function sequenceOf(db: Db, length: number) {
  const collection = db.collection<Item>(`items_${randomBytes(3).toString('hex')}`);
  const index = sequenceIndex({ position: 'n' }, 'guard');
  await collection.createIndex(index.key, { unique: true, name: index.name });
  const writer = createBucketedSequence(collection, { position: 'n' });
  for (let i = 0; i < length; i++) {
    const _id = `k:${i}`;
    await writer.append('k', (n) => ({ _id, key: 'k', n }), async () => (await collection.findOne({ _id }))?.n);
  }
  return { collection, writer };
}

/** The filters of the reads (find, count) that ran while `task` did. */
async function readsDuring(commands: CommandStartedEvent[], task: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const start = commands.length;
  await task();
  return commands.slice(start).flatMap((c) => (c.commandName === 'find' ? [c.command.filter as Record<string, unknown>] : c.commandName === 'aggregate' ? [{ aggregate: true }] : []));
}

function contract(url: () => Promise<string>): void {
let client: MongoClient;
let db: Db;
const commands: CommandStartedEvent[] = [];

before(async () => {
  client = new MongoClient(await url(), { serverSelectionTimeoutMS: 5_000, monitorCommands: true });
  client.on('commandStarted', (event) => commands.push(event));
  db = client.db(`t_contract_${randomBytes(4).toString('hex')}`);
});
after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

test('batched inserts: concurrent ones share a command, and each caller gets its own outcome', async () => {
  const collection = db.collection<{ _id: string; k: string }>('batched');
  await collection.createIndex({ k: 1 }, { unique: true, name: 'k' });
  const batcher = new InsertBatcher(collection);
  const start = commands.length;
  const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => batcher.insert({ _id: `d${i}`, k: `k${i % 20}` })));
  const inserts = commands.slice(start).filter((c) => c.commandName === 'insert').length;
  assert.ok(inserts < 10, `${inserts} insert commands for 30 concurrent inserts`);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    Array.from({ length: 30 }, (_, i) => (i < 20 ? 'fulfilled' : 'rejected')),
  );
  for (const o of outcomes) if (o.status === 'rejected') assert.ok(isDuplicateKey(o.reason), String(o.reason));
  assert.equal(await collection.countDocuments({}), 20);
});

test('a write the connection is lost under fails every document in it, as an outage: nothing is acknowledged that may not be stored', async () => {
  // The driver reports an insertMany whose command got no answer as a bulk write error with no
  // write errors. Read as "none refused", it acknowledged documents never written: a FerretDB
  // stopped under load left timeline positions skipped for good (sync stops at a hole) and
  // messages delivered that no database holds.
  const relay = await tcpRelay(await url());
  const cutOff = new MongoClient(relay.url, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
  try {
    const collection = cutOff.db(db.databaseName).collection<{ _id: string }>('cut');
    const batcher = new InsertBatcher(collection);
    await batcher.insert({ _id: 'before' });
    relay.cut();
    // The first goes alone (insertOne); the two that arrive meanwhile share an insertMany.
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((_id) => batcher.insert({ _id })));
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
    const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as unknown);
    assert.ok(reasons.some((r) => r instanceof MongoBulkWriteError), `the insertMany's failure came as a bulk write error: ${reasons.map(String).join('; ')}`);
    for (const r of reasons) assert.ok(isDatabaseOutage(r), `an outage (503), not a bug (500): ${String(r)}`);
    await assert.rejects(insertIgnoringRepeats(collection, [{ _id: 'x' }, { _id: 'y' }]), (e: unknown) => isDatabaseOutage(e), 'not taken for two repeats');
  } finally {
    await cutOff.close();
    await relay.close();
  }
  assert.deepEqual(await db.collection('cut').find({}).map((d) => d._id).toArray(), ['before']);
});

test('a unique index refuses the second of two racing inserts with E11000, whatever the race', async () => {
  const collection = db.collection<{ _id: string; key: string; n: number }>('guard');
  await collection.createIndex({ key: 1, n: 1 }, { unique: true, name: 'guard' });
  const outcomes = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => collection.insertOne({ _id: `r${i}`, key: 'k', n: 1 })));
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  for (const o of outcomes) if (o.status === 'rejected') assert.ok(isDuplicateKey(o.reason), String(o.reason));
});

  test('the last position is found from cold at every bucket boundary, and the next append follows it', async () => {
  for (const length of [0, 1, BUCKET_SIZE - 2, BUCKET_SIZE - 1, BUCKET_SIZE, 2 * BUCKET_SIZE - 1, 2 * BUCKET_SIZE + 50]) {
    const { collection } = await sequenceOf(db, length);
    const cold = createBucketedSequence(collection, { position: 'n' });
    assert.equal(await cold.last('k'), length, `length ${length}`);
    const next = await cold.append('k', (n) => ({ _id: 'next', key: 'k', n }), async () => undefined);
    assert.deepEqual(next, { position: length + 1, inserted: true }, `length ${length}`);
  }
});

  test('pages cross buckets, stay contiguous, and every read is equality on the bucket key', async () => {
  const { collection } = await sequenceOf(db, 2 * BUCKET_SIZE + 30);
  const reader = createBucketedSequence(collection, { position: 'n' });
  const filters = await readsDuring(commands, async () => {
    assert.deepEqual((await reader.after('k', 0, 500)).map((d) => d.n), Array.from({ length: 2 * BUCKET_SIZE + 30 }, (_, i) => i + 1));
    assert.deepEqual((await reader.after('k', BUCKET_SIZE - 5, 10)).map((d) => d.n), Array.from({ length: 10 }, (_, i) => BUCKET_SIZE - 4 + i));
    assert.deepEqual((await reader.before('k', undefined, 3)).map((d) => d.n), [230, 229, 228]);
    assert.deepEqual((await reader.before('k', BUCKET_SIZE + 2, 4)).map((d) => d.n), [BUCKET_SIZE + 1, BUCKET_SIZE, BUCKET_SIZE - 1, BUCKET_SIZE - 2]);
    assert.deepEqual((await reader.before('k', 3, 10)).map((d) => d.n), [2, 1]);
    assert.deepEqual(await reader.after('k', 230, 10), []);
  });
  assert.ok(filters.length > 0);
  for (const filter of filters) assert.deepEqual(Object.keys(filter), ['bucket'], `a read keyed on anything but the bucket: ${JSON.stringify(filter)}`);
  // A page of 10 reads at most the two buckets it spans, and the cold last-position search a
  // logarithmic number of them (never the whole sequence).
  assert.ok(filters.length <= 14, `${filters.length} reads`);
});

  test('two replicas sending in one conversation: positions 1..n, each message once, repeats found', async () => {
  const a = createMessagesRepository(db);
  const b = createMessagesRepository(db);
  await a.ensureIndexes();
  await b.ensureIndexes();
  const conversationId = directConversationId('alice', 'bob');
  const fresh = (clientMsgId?: string): NewMessageDoc => {
    const _id = new ObjectId();
    return { _id, conversationId, fromId: 'alice', from: 'alice', toId: 'bob', to: 'bob', text: 'hi', createdAt: new Date(), idemKey: idempotencyKey(_id, clientMsgId), published: false };
  };
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).insert(fresh())));
  const positions = results.map((r) => (r === 'repeat' ? 0 : r.position)).sort((x, y) => x - y);
  assert.deepEqual(positions, Array.from({ length: 40 }, (_, i) => i + 1));

  const first = await a.insert(fresh('retry-1'));
  assert.notEqual(first, 'repeat');
  assert.equal(await b.insert(fresh('retry-1')), 'repeat');

  const newest = await b.conversation(conversationId, undefined, 5);
  assert.deepEqual(newest.map((m) => m.position), [41, 40, 39, 38, 37]);
  assert.deepEqual((await a.conversation(conversationId, 3, 5)).map((m) => m.position), [2, 1]);
});

  const entry = (m: { id: string }): [string, string] => [m.id, JSON.stringify(m)];
  test('a timeline read after a restart (cold cache) appends after what another replica wrote', async () => {
  const first = createTimeline(db);
  await first.ensureIndexes();
  const user = `u_${randomBytes(3).toString('hex')}`;
  const message = () => ({ id: new ObjectId().toHexString(), from: user, to: 'p', text: 't', createdAt: new Date().toISOString() });
  for (let i = 0; i < BUCKET_SIZE + 3; i++) await first.append(user, ...entry(message()));
  const restarted = createTimeline(db);
  assert.equal(await restarted.append(user, ...entry(message())), BUCKET_SIZE + 4);
});
}
