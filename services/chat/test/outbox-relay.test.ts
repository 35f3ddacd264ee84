/**
 * The outbox relay against the real database and broker: an event the broker confirmed whose
 * mark could not be written (the database went away in between) is not left pending for good.
 * The scan publishes it again once the database is back (consumers dedupe by id) and marks it;
 * before, the relay remembered it as confirmed for five minutes and skipped it, so the outbox
 * backlog stayed up (found by tests/system/chaos-ledger.integration.test.ts, fault 4).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { Registry } from 'prom-client';
import { createLogger } from '@chat/common/config';
import { sleep, stackEnv, waitFor } from '@chat/testkit';
import { createChatMetrics } from '../src/chat-metrics.js';
import { directConversationId } from '../src/conversation-id.js';
import { EventPublisher } from '../src/event-publisher.js';
import { idempotencyKey, type MessageDoc } from '../src/message.js';
import { createMessagesRepository } from '../src/messages-repo.js';
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
  const _id = new ObjectId();
  const [a, b] = [new ObjectId().toHexString(), new ObjectId().toHexString()];
  const stored = await messages.insert({
    _id,
    conversationId: directConversationId(a, b),
    fromId: a,
    from: 'alice',
    toId: b,
    to: 'bob',
    text: 'hello',
    createdAt: new Date(),
    idemKey: idempotencyKey(_id, undefined),
    published: false,
  });
  assert.notEqual(stored, 'repeat');
  const published = () => metrics.eventsPublished.get().then((m) => m.values.reduce((n, v) => n + v.value, 0));

  relay.cut(); // the database goes away after the store, before the mark
  outbox.claim(_id);
  outbox.dispatch(stored as MessageDoc, {});
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
