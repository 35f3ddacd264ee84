/**
 * Integration-test helpers (the Auth and Chat processes come from @chat/testkit's startStack):
 * Chat's API called as a client would, and a real consumer bound to chat.events.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { EVENTS_EXCHANGE, parseNewMessageEvent, type ChatMessage, type NewMessageEvent } from '@chat/common/contracts';
import { request, sleep, waitFor, type TestUser } from '@chat/testkit';

export async function send(chatUrl: string, sender: TestUser, body: Record<string, unknown>) {
  return request<{ message: ChatMessage; error?: { code: string; message: string } }>(`${chatUrl}/chat/send`, { body, token: sender.token });
}

export function assertEnvelope(res: { status: number; body: any; text: string }, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.body ?? {}), ['error'], res.text);
  assert.equal(res.body.error.code, code, res.text);
  assert.equal(typeof res.body.error.message, 'string');
}

/** Every page of sync for a user, from the beginning (or `after`). */
export async function syncAll(chatUrl: string, user: TestUser, opts: { after?: string; limit?: number } = {}) {
  const messages: ChatMessage[] = [];
  let cursor = opts.after;
  for (;;) {
    const qs = new URLSearchParams({ limit: String(opts.limit ?? 500) });
    if (cursor) qs.set('after', cursor);
    const res = await request(`${chatUrl}/chat/sync?${qs}`, { token: user.token });
    assert.equal(res.status, 200, res.text);
    messages.push(...res.body.messages);
    cursor = res.body.cursor;
    if (!res.body.hasMore) return { messages, cursor: cursor! };
  }
}

export interface EventProbe {
  events: Array<{ event: NewMessageEvent; properties: amqplib.MessageProperties; raw: unknown }>;
  ids(): string[];
  /** Waits until events for all `ids` arrived (each at least once). */
  waitForIds(ids: Iterable<string>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A consumer bound to chat.events. By default its queue is named and durable, so it is kept
 * across a broker stop/start (ours, or another test's on the shared broker) and nothing
 * published while we reconnect is missed; it expires two minutes after its last consumer left,
 * so a crashed test leaves nothing behind. `durableQueue: false` gives an exclusive one.
 * Invalid events fail the test.
 */
export async function eventProbe(amqpUrl: string, opts: { durableQueue?: boolean } = {}): Promise<EventProbe> {
  opts = { durableQueue: true, ...opts };
  const queue = opts.durableQueue ? `chat-test.${randomBytes(4).toString('hex')}` : '';
  const events: EventProbe['events'] = [];
  let connection: amqplib.ChannelModel | undefined;
  let closed = false;
  let queueName = queue;

  const connect = async () => {
    const conn = await amqplib.connect(amqpUrl);
    conn.on('error', () => undefined);
    const ch = await conn.createChannel();
    await ch.assertExchange(EVENTS_EXCHANGE, 'fanout', { durable: true });
    const q = await ch.assertQueue(queue, opts.durableQueue ? { durable: true, arguments: { 'x-expires': 120_000 } } : { exclusive: true, autoDelete: true });
    queueName = q.queue;
    await ch.bindQueue(q.queue, EVENTS_EXCHANGE, '');
    await ch.consume(q.queue, (msg) => {
      if (!msg) return;
      const raw: unknown = JSON.parse(msg.content.toString('utf8'));
      const event = parseNewMessageEvent(raw);
      assert.ok(event, `invalid event on chat.events: ${msg.content.toString('utf8')}`);
      events.push({ event, properties: msg.properties, raw });
      ch.ack(msg);
    });
    connection = conn;
    // Reconnect after a broker restart (only meaningful with a durable queue).
    conn.on('close', () => {
      connection = undefined;
      if (closed || !opts.durableQueue) return;
      void (async () => {
        while (!closed && !connection) {
          await sleep(300);
          await connect().catch(() => undefined);
        }
      })();
    });
  };
  await connect();

  return {
    events,
    ids: () => events.map((e) => e.event.message.id),
    async waitForIds(ids, timeoutMs = 20_000) {
      const wanted = [...ids];
      await waitFor(`${wanted.length} events`, () => {
        const seen = new Set(events.map((e) => e.event.message.id));
        return wanted.every((id) => seen.has(id));
      }, timeoutMs, 50);
    },
    async close() {
      closed = true;
      const conn = connection ?? (opts.durableQueue ? await amqplib.connect(amqpUrl).catch(() => undefined) : undefined);
      if (!conn) return;
      if (opts.durableQueue) {
        const ch = await conn.createChannel();
        await ch.deleteQueue(queueName).catch(() => undefined);
      }
      await conn.close().catch(() => undefined);
    },
  };
}
