import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor } from '@chat/common/contracts';
import { request, sleep, startStack, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { eventProbe, send, syncAll, type EventProbe } from './support.js';

let stack: Stack;
let chats: RunningService[];
let probe: EventProbe;

before(async () => {
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' } });
  probe = await eventProbe(stack.env.AMQP_URL!);
  chats = await Promise.all([stack.start('chat'), stack.start('chat')]);
});
after(async () => {
  await probe?.close();
  await stack?.stop();
});

/**
 * Pages `sync` with a small limit while writes are happening, until the writers are done and
 * a page comes back empty. Returns every message id in the order the pages delivered them.
 */
async function pageWhileWriting(chatUrls: string[], user: TestUser, writing: () => boolean) {
  const seen: string[] = [];
  let cursor: string | undefined;
  let lastSeq = 0;
  for (let i = 0; ; i++) {
    const stillWriting = writing();
    // Alternate between the replicas: a cursor from one is valid on the other.
    const url = chatUrls[i % chatUrls.length]!;
    const res = await request(`${url}/chat/sync?limit=7${cursor ? `&after=${cursor}` : ''}`, { token: user.token });
    assert.equal(res.status, 200, res.text);
    seen.push(...res.body.messages.map((m: { id: string }) => m.id));
    const seq = decodeCursor(res.body.cursor)!.seq;
    assert.ok(seq >= lastSeq, 'the cursor never moves backwards');
    assert.equal(seq - lastSeq, res.body.messages.length, 'sequence numbers are dense: a page of n messages moves the cursor by n');
    lastSeq = seq;
    cursor = res.body.cursor;
    if (!stillWriting && !res.body.hasMore && res.body.messages.length === 0) return seen;
    if (!res.body.hasMore) await sleep(3);
  }
}

test('sync is gap-free: two chat processes insert concurrently for the same users while readers page; every message is seen exactly once, in order', async () => {
  const [ann, ben, cat] = await Promise.all([stack.user('ann'), stack.user('ben'), stack.user('cat')]);
  const pairs: Array<[TestUser, TestUser]> = [
    [ann, ben],
    [ben, ann],
    [cat, ann],
    [ann, cat],
    [ann, ann],
    [ben, cat],
  ];
  const perLoop = 12;
  const sent: Array<{ id: string; from: string; to: string }> = [];
  let writing = true;
  const writers = Promise.all(
    chats.flatMap((chat) =>
      pairs.map(async ([from, to]) => {
        for (let i = 0; i < perLoop; i++) {
          const res = await send(chat.url, from, { to: to.username, text: `${from.username}->${to.username} #${i} via ${chat.port}` });
          assert.equal(res.status, 201, res.text);
          sent.push({ id: res.body.message.id, from: from.username, to: to.username });
        }
      }),
    ),
  ).finally(() => {
    writing = false;
  });
  const urls = chats.map((c) => c.url);
  const readers = [ann, ben, cat];
  const seenBy = await Promise.all(readers.map((u) => pageWhileWriting(urls, u, () => writing)));
  await writers;
  assert.equal(sent.length, chats.length * pairs.length * perLoop);

  for (const [i, user] of readers.entries()) {
    const seen = seenBy[i]!;
    const expected = sent.filter((m) => m.from === user.username || m.to === user.username).map((m) => m.id);
    assert.equal(new Set(seen).size, seen.length, `${user.username}: no message seen twice`);
    assert.deepEqual([...seen].sort(), [...expected].sort(), `${user.username}: every message seen`);
    // The pages, concatenated, are exactly the timeline in seq order as a fresh full sync reads it.
    const full = await syncAll(chats[0]!.url, user, { limit: 13 });
    assert.deepEqual(full.messages.map((m) => m.id), seen);
  }
  // Seqs in storage are dense 1..n per user (no holes a cursor could jump over).
  const db = await stack.db('chat');
  for (const user of [ann, ben, cat]) {
    const seqs = (await db.collection('timeline').find({ userId: user.id }, { projection: { seq: 1 } }).toArray()).map((e) => e.seq as number).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
  }
  // And both replicas published every message.
  try {
    await probe.waitForIds(sent.map((m) => m.id), 30_000);
  } catch (err) {
    const seen = new Set(probe.ids());
    const missing = sent.filter((m) => !seen.has(m.id)).map((m) => m.id);
    const states = await db.collection('messages').find({}, { projection: { published: 1 } }).toArray();
    const unpublished = states.filter((d) => !d.published).map((d) => String(d._id));
    const logs = chats.map((c) => c.output().split('\n').filter((l) => /"level":"(warn|error|fatal)"/.test(l)).slice(-15).join('\n'));
    throw new Error(`${(err as Error).message}\nmissing ${missing.length}: ${missing.slice(0, 5).join(',')}\nunpublished in db ${unpublished.length}: ${unpublished.slice(0, 5).join(',')}\n${logs.join('\n---\n')}`);
  }
});
