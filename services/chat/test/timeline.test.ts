import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import type { ChatMessage } from '@chat/common/contracts';
import { stackEnv } from '@chat/testkit';
import { createTimeline, type Timeline } from '../src/timeline.js';

let client: MongoClient;
let db: Db;

before(async () => {
  const { env } = await stackEnv();
  client = new MongoClient(env.MONGO_URL!, { serverSelectionTimeoutMS: 5_000 });
  db = client.db(`t_timeline_${randomBytes(4).toString('hex')}`);
});
after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const message = (from: string, to: string): ChatMessage => ({ id: new ObjectId().toHexString(), from, to, text: 't', createdAt: new Date().toISOString() });

/** A message's id and stored JSON, as appendToTimelines passes them. */
const entry = (m: ChatMessage): [string, string] => [m.id, JSON.stringify(m)];

/** Two timelines on one database, each with its own cache and queue: two replicas, as far as ordering goes. */
async function replicas(): Promise<[Timeline, Timeline]> {
  const a = createTimeline(db);
  const b = createTimeline(db);
  await Promise.all([a.ensureIndexes(), b.ensureIndexes()]);
  return [a, b];
}

test('appending the same message twice, from either replica, yields one entry and the same seq', async () => {
  const [a, b] = await replicas();
  const user = `u_${randomBytes(3).toString('hex')}`;
  const m = message(user, 'peer');
  const seqs = await Promise.all([a.append(user, ...entry(m)), b.append(user, ...entry(m)), a.append(user, ...entry(m))]);
  assert.deepEqual(new Set(seqs).size, 1);
  assert.equal(await db.collection('timeline').countDocuments({ userId: user }), 1);
  const other = await b.append(user, ...entry(message(user, 'peer')));
  assert.equal(other, seqs[0]! + 1);
});

test('a replica whose cached seq is far behind still appends densely', async () => {
  const [a, b] = await replicas();
  const user = `u_${randomBytes(3).toString('hex')}`;
  assert.equal(await a.append(user, ...entry(message(user, 'p'))), 1);
  for (let i = 0; i < 12; i++) await b.append(user, ...entry(message(user, 'p')));
  assert.equal(await a.append(user, ...entry(message(user, 'p'))), 14);
  const seqs = (await a.after(user, 0, 100)).map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: 14 }, (_, i) => i + 1));
});

test('concurrent appends from two replicas while a reader pages by seq: nothing skipped, nothing repeated', async () => {
  const [a, b] = await replicas();
  const users = ['x', 'y', 'z'].map((n) => `${n}_${randomBytes(3).toString('hex')}`);
  const appended = new Map<string, string[]>(users.map((u) => [u, []]));
  let writing = true;
  const writers = Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      const timeline = w % 2 ? a : b;
      for (let i = 0; i < 20; i++) {
        const user = users[(w + i) % users.length]!;
        const m = message(user, 'peer');
        await timeline.append(user, ...entry(m));
        appended.get(user)!.push(m.id);
      }
    }),
  ).finally(() => (writing = false));

  const read = async (user: string) => {
    const seen: Array<{ id: string; seq: number }> = [];
    let cursor = 0;
    for (;;) {
      const stillWriting = writing;
      const page = await (seen.length % 2 ? a : b).after(user, cursor, 5);
      for (const entry of page) seen.push({ id: (JSON.parse(entry.messageJson) as { id: string }).id, seq: entry.seq });
      cursor = page.at(-1)?.seq ?? cursor;
      if (!stillWriting && page.length === 0) return seen;
      if (page.length < 5) await new Promise((r) => setTimeout(r, 2));
    }
  };
  const results = await Promise.all(users.map(read));
  await writers;
  users.forEach((user, i) => {
    const seen = results[i]!;
    assert.deepEqual(seen.map((s) => s.seq), Array.from({ length: seen.length }, (_, k) => k + 1), `${user}: seqs 1..n in order, no gaps`);
    assert.deepEqual(seen.map((s) => s.id).sort(), [...appended.get(user)!].sort(), `${user}: every appended message exactly once`);
  });
});
