/**
 * Confirmed-publish throughput of Chat's event publisher, driven the way the outbox relay
 * drives it: batches of PUBLISH_BATCH_MAX (500) events, up to 8 batches in flight on the one
 * confirm channel, each message counted only when its broker confirm arrives. A consumer on an
 * exclusive queue bound to the exchange counts deliveries, so the figure is "published,
 * confirmed and consumed", comparable with a raw amqplib publisher on the same broker.
 *
 * By default the events go to a private fanout exchange of the same definition as chat.events
 * (deleted afterwards), so a shared broker's gateways do not receive the load.
 *
 *   node --conditions=development --import tsx tools/bench/src/scenarios/publish-path.ts [count] [amqpUrl]
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import amqplib from 'amqplib';
import { ObjectId } from 'mongodb';
import { encodeCursor, EVENTS_EXCHANGE, type NewMessageEvent } from '@chat/common/contracts';
import { createLogger } from '@chat/common/config';
import { EventPublisher, type PublishItem } from '../../../../services/chat/src/event-publisher.js';
import { DEFAULT_MAX_CONCURRENT_BATCHES } from '../../../../services/chat/src/outbox-relay.js';

export interface PublishPathOptions {
  amqpUrl: string;
  count: number;
  batchSize?: number;
  concurrentBatches?: number;
  /** Publish to the real chat.events instead of a private exchange. */
  useEventsExchange?: boolean;
  textLength?: number;
}

export interface PublishPathResult {
  msgPerSec: number;
  count: number;
  confirmed: number;
  consumed: number;
  seconds: number;
  batchSize: number;
  concurrentBatches: number;
}

function sampleEvent(i: number, text: string): PublishItem {
  const id = new ObjectId().toHexString();
  const from = `bench-a-${i % 50}`;
  const to = `bench-b-${i % 50}`;
  const event: NewMessageEvent = {
    type: 'new_message',
    version: 1,
    message: { id, from, to, text, createdAt: new Date().toISOString(), clientMsgId: `bench-${i}` },
    cursors: { [from]: encodeCursor({ userId: from, seq: i + 1 }), [to]: encodeCursor({ userId: to, seq: i + 1 }) },
  };
  return { id, event };
}

export async function measurePublishPath(opts: PublishPathOptions): Promise<PublishPathResult> {
  const batchSize = opts.batchSize ?? 500;
  const concurrentBatches = opts.concurrentBatches ?? DEFAULT_MAX_CONCURRENT_BATCHES;
  const exchange = opts.useEventsExchange ? EVENTS_EXCHANGE : `chat.events.bench.${randomBytes(4).toString('hex')}`;
  const logger = createLogger({ service: 'chat-bench', level: 'warn' });
  const text = 'x'.repeat(opts.textLength ?? 100);
  const items = Array.from({ length: opts.count }, (_, i) => sampleEvent(i, text));

  const publisher = new EventPublisher({ url: opts.amqpUrl, logger, exchange });
  const consumerConnection = await amqplib.connect(opts.amqpUrl);
  try {
    await publisher.started();
    if (!(await publisher.ensureChannel())) throw new Error('could not open the publish channel');
    const ch = await consumerConnection.createChannel();
    await ch.assertExchange(exchange, 'fanout', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, exchange, '');
    let consumed = 0;
    let allConsumed: () => void = () => undefined;
    const consumedAll = new Promise<void>((resolve) => (allConsumed = resolve));
    await ch.consume(queue, () => {
      if (++consumed === opts.count) allConsumed();
    }, { noAck: true });

    const started = performance.now();
    let next = 0;
    let confirmed = 0;
    const worker = async () => {
      while (next < items.length) {
        const batch = items.slice(next, next + batchSize);
        next += batch.length;
        const acked = await publisher.publish(batch);
        confirmed += acked.size; // not `confirmed += await …`: that reads `confirmed` before the await
      }
    };
    await Promise.all(Array.from({ length: concurrentBatches }, worker));
    const confirmedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([consumedAll, new Promise((resolve) => (timer = setTimeout(resolve, 30_000)))]);
    clearTimeout(timer);
    const seconds = (Math.max(performance.now(), confirmedAt) - started) / 1000;
    if (!opts.useEventsExchange) await ch.deleteExchange(exchange).catch(() => undefined);
    return { msgPerSec: Math.round(confirmed / seconds), count: opts.count, confirmed, consumed, seconds, batchSize, concurrentBatches };
  } finally {
    await consumerConnection.close().catch(() => undefined);
    await publisher.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = Number(process.argv[2] ?? 100_000);
  const amqpUrl = process.argv[3] ?? process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const result = await measurePublishPath({ amqpUrl, count });
  console.log(JSON.stringify(result));
}
