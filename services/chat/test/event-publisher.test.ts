import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import amqplib from 'amqplib';
import { ObjectId } from 'mongodb';
import { EVENTS_EXCHANGE, type NewMessageEvent } from '@chat/common/contracts';
import { createLogger } from '@chat/common/config';
import { stackEnv, waitFor } from '@chat/testkit';
import { EventPublisher, type PublishItem } from '../src/event-publisher.js';

let amqpUrl: string;
const logger = createLogger({ service: 'chat-test', level: 'silent' });

before(async () => {
  amqpUrl = (await stackEnv()).env.AMQP_URL!;
});

function item(text: string): PublishItem {
  const id = new ObjectId().toHexString();
  const event: NewMessageEvent = { type: 'new_message', version: 1, message: { id, from: 'a', to: 'b', text, createdAt: new Date().toISOString() }, cursors: {} };
  return { id, event };
}

let publisher: EventPublisher | undefined;
after(async () => publisher?.close());

test('publishes a batch to chat.events with confirms and reports exactly the confirmed ids', async (t) => {
  publisher = new EventPublisher({ url: amqpUrl, logger });
  assert.equal(publisher.connected, false);
  assert.deepEqual(await publisher.publish([item('before start')]), new Set(), 'nothing is confirmed without a channel');
  await publisher.started();
  assert.equal(await publisher.ensureChannel(), true);

  const conn = await amqplib.connect(amqpUrl);
  t.after(() => conn.close().catch(() => undefined));
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, EVENTS_EXCHANGE, '');
  const batch = Array.from({ length: 300 }, (_, i) => item(`m${i}`));
  const ours = new Set(batch.map((b) => b.id));
  // The shared broker's chat.events may carry other tests' events too; keep ours.
  const received: string[] = [];
  await ch.consume(queue, (msg) => {
    const id = msg && (JSON.parse(msg.content.toString()) as NewMessageEvent).message.id;
    if (id && ours.has(id)) received.push(id);
  }, { noAck: true });

  const confirmed = await publisher.publish(batch);
  assert.deepEqual(confirmed, ours);
  await waitFor('all delivered', () => received.length >= batch.length, 10_000);
  assert.deepEqual(received, batch.map((b) => b.id), 'in publish order, once each');

  await publisher.close();
  assert.deepEqual(await publisher.publish([item('after close')]), new Set());
  publisher = undefined;
});
