/**
 * The outbox relay against the real database and broker: an event the broker confirmed whose
 * mark could not be written (the database went away in between) is not left pending for good.
 * The scan publishes it again once the database is back (consumers dedupe by id) and marks it;
 * before, the relay remembered it as confirmed for five minutes and skipped it, so the outbox
 * backlog stayed up (found by tests/system/chaos-ledger.integration.test.ts, fault 4).
 *
 * And the relay yields to requests (issue 17): its scans back off while the database fails and
 * come back to their interval once it answers, and while requests wait for an admission slot
 * the scans are postponed, never for longer than the cap, so the backlog still drains.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { Registry } from 'prom-client';
import { createLogger } from '@chat/common/config';
import { Admission } from '@chat/common/koa';
import { sleep, stackEnv, waitFor } from '@chat/testkit';
import { createChatMetrics } from '../src/chat-metrics.js';
import { directConversationId } from '../src/conversation-id.js';
import { EventPublisher } from '../src/event-publisher.js';
import { idempotencyKey, type MessageDoc } from '../src/message.js';
import { createMessagesRepository, type MessagesRepository } from '../src/messages-repo.js';
import { OutboxRelay } from '../src/outbox-relay.js';
import { createTimeline } from '../src/timeline.js';
import { tcpRelay, type TcpRelay } from './tcp-relay.js';

const logger = createLogger({ service: 'chat-test', level: 'silent' });
let relay: TcpRelay;
let client: MongoClient;
let db: Db;
let publisher: EventPublisher;

before(async () => {
  const { env } = await stackEnv();
  relay = await tcpRelay(env.MONGO_URL!);
  client = new MongoClient(relay.url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  db = client.db(`t_outbox_${randomBytes(4).toString('hex')}`);
  // A private exchange, so that no gateway on the shared broker sees these events.
  publisher = new EventPublisher({ url: env.AMQP_URL!, logger, exchange: `test.outbox.${randomBytes(4).toString('hex')}` });
  await publisher.started();
  assert.equal(await publisher.ensureChannel(), true);
});
after(async () => {
  await publisher?.close();
  await relay?.restore().catch(() => undefined);
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await relay?.close();
});

test('a confirmed event whose mark failed is published again and marked once the database is back', async () => {
  const messages = createMessagesRepository(db);
  const timeline = createTimeline(db);
  await Promise.all([messages.ensureIndexes(), timeline.ensureIndexes()]);
  const metrics = createChatMetrics(new Registry());
  const outbox = new OutboxRelay({ messages, timeline, publisher, metrics, logger, delayMs: 0, intervalMs: 60_000, batchMax: 100 });
  const stored = await storeUnpublished(messages);
  const _id = stored._id;
  const published = () => metrics.eventsPublished.get().then((m) => m.values.reduce((n, v) => n + v.value, 0));

  relay.cut(); // the database goes away after the store, before the mark
  outbox.claim(_id);
  outbox.dispatch(stored, {});
  await waitFor('the event confirmed', async () => (await published()) === 1, 10_000);
  // The mark runs within 100 ms of the confirm and fails once no server is selected (1 s).
  await sleep(2_500);
  await relay.restore();
  assert.equal((await db.collection('messages').findOne({ _id }))?.published, false, 'the mark failed');

  await waitFor('marked published', async () => {
    await outbox.scan();
    return (await db.collection('messages').findOne({ _id }))?.published === true;
  }, 15_000, 200);
  assert.equal(await published(), 2, 'published again (consumers dedupe by id), then marked');
  await outbox.stop();
});

/** A message stored as the send path stores it, still unpublished. */
async function storeUnpublished(messages: MessagesRepository): Promise<MessageDoc> {
  const _id = new ObjectId();
  const [a, b] = [new ObjectId().toHexString(), new ObjectId().toHexString()];
  const stored = await messages.insert({
    _id,
    conversationId: directConversationId(a, b),
    fromId: a,
    from: 'alice',
    toId: b,
    to: 'bob',
    text: 'pending',
    createdAt: new Date(Date.now() - 1_000),
    idemKey: idempotencyKey(_id, undefined),
    published: false,
  });
  assert.notEqual(stored, 'repeat');
  return stored as MessageDoc;
}

/** The real repository, with the start time of every scan's outbox query recorded. */
function countingScans(messages: MessagesRepository): { repo: MessagesRepository; scans: number[] } {
  const scans: number[] = [];
  return {
    scans,
    repo: {
      ...messages,
      findUnpublished: (limit) => {
        scans.push(Date.now());
        return messages.findUnpublished(limit);
      },
    },
  };
}

const delays = async (metrics: ReturnType<typeof createChatMetrics>, task: string, reason: string) =>
  (await metrics.backgroundDelays.get()).values.find((v) => v.labels.task === task && v.labels.reason === reason)?.value ?? 0;

test('scans back off (doubling, from the interval) while the database fails, and are back at the interval once it answers', async () => {
  // A client of its own through its own relay, failing fast (100 ms server selection), so that
  // the test sees the relay's pacing and not the driver's timeouts.
  const { env } = await stackEnv();
  const cutMe = await tcpRelay(env.MONGO_URL!);
  const fastClient = new MongoClient(cutMe.url, { serverSelectionTimeoutMS: 100, connectTimeoutMS: 100 });
  try {
    const { repo, scans } = countingScans(createMessagesRepository(fastClient.db(db.databaseName)));
    const metrics = createChatMetrics(new Registry());
    const outbox = new OutboxRelay({ messages: repo, timeline: createTimeline(db), publisher, metrics, logger, delayMs: 0, intervalMs: 100, batchMax: 100, random: () => 0.5 });
    outbox.start();
    await waitFor('scans at the interval', () => scans.length >= 5, 5_000, 20);
    assert.equal(await delays(metrics, 'outbox_scan', 'failed'), 0);

    cutMe.cut();
    const cutAt = Date.now();
    await sleep(4_000);
    const failing = scans.filter((t) => t > cutAt);
    const gaps = failing.slice(1).map((t, i) => t - failing[i]!);
    // Each failing scan takes about 100 ms (server selection), then waits 100, 200, 400, 800,
    // 1600 ms: 5 or 6 scans in 4 s. At the interval it would have been about 20.
    assert.ok(failing.length >= 3 && failing.length <= 7, `${failing.length} scans in 4 s while the database failed (gaps ${gaps.join(', ')} ms)`);
    assert.ok(gaps.at(-1)! >= 4 * gaps[0]!, `the waits grew: ${gaps.join(', ')} ms`);
    assert.ok((await delays(metrics, 'outbox_scan', 'failed')) >= failing.length - 1);

    await cutMe.restore();
    // The next scan is at most the cap away (10 s ×1.5 at worst; here the streak is at 3.2 s).
    const restoredAt = Date.now();
    await waitFor('a scan that answers', () => scans.some((t) => t > restoredAt + 150), 10_000, 20);
    await waitFor('scans at the interval again', () => scans.filter((t) => t > restoredAt).length >= 6, 5_000, 20);
    const back = scans.filter((t) => t > restoredAt);
    const lastGaps = back.slice(-4).map((t, i, a) => (i === 0 ? 0 : t - a[i - 1]!)).slice(1);
    assert.ok(lastGaps.every((g) => g < 400), `back at the 100 ms interval: ${lastGaps.join(', ')} ms`);
    await outbox.stop();
  } finally {
    await fastClient.close();
    await cutMe.close();
  }
});

test('while requests wait for a slot the scan is postponed, for at most the cap in a row, so the backlog still drains', async () => {
  const messages = createMessagesRepository(db);
  const timeline = createTimeline(db);
  const { repo, scans } = countingScans(messages);
  const metrics = createChatMetrics(new Registry());
  // The real admission, one slot: a request holds it and another waits, so requests are waiting.
  const pressure = new Admission({ maxInFlight: 1, maxWaitMs: 60_000 });
  const releaseRunning = await pressure.acquire();
  const waiting = pressure.acquire();
  assert.equal(pressure.saturated, true);
  const outbox = new OutboxRelay({ messages: repo, timeline, publisher, metrics, logger, delayMs: 0, intervalMs: 100, batchMax: 100, pressure, maxPostponeMs: 1_500 });
  const pending = await storeUnpublished(messages);
  const startedAt = Date.now();
  outbox.start();
  await sleep(1_000);
  assert.equal(scans.length, 0, 'no scan while requests wait, within the cap');
  assert.ok((await delays(metrics, 'outbox_scan', 'pressure')) >= 2);
  // The cap ends the wait: the pending message is published under constant pressure.
  await waitFor('the pending message published', async () => (await db.collection('messages').findOne({ _id: pending._id }))?.published === true, 5_000, 50);
  assert.ok(scans[0]! - startedAt >= 1_400, `the first scan waited for the cap (${scans[0]! - startedAt} ms)`);
  // Still under pressure: about one scan per cap, not ten a second.
  const count = scans.length;
  await sleep(2_000);
  assert.ok(scans.length - count <= 2, `${scans.length - count} scans in 2 s under pressure`);
  // The pressure is gone (the running request ends, the waiting one runs): back to the interval.
  releaseRunning();
  const releaseWaiting = await waiting;
  assert.equal(pressure.saturated, false);
  const freeAt = Date.now();
  await sleep(1_000);
  assert.ok(scans.filter((t) => t > freeAt).length >= 5, 'scans at the interval once nothing waits');
  releaseWaiting();
  await outbox.stop();
});
