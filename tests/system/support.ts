/**
 * Helpers for the system tests (the processes come from @chat/testkit's startStack): sends
 * through Chat's API, raw events on `chat.events`, readiness, Chat's sync as the reference
 * stream, and the exactly-once-in-order check.
 */
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import { EVENTS_EXCHANGE } from '@chat/common/contracts';
import assert from 'node:assert/strict';
import { request, sleep, type TestUser } from '@chat/testkit';

/** Alice's message through Chat's HTTP API; returns the stored message. */
export async function send(chatUrl: string, from: TestUser, to: string, text: string): Promise<any> {
  const res = await request(`${chatUrl}/chat/send`, { token: from.token, body: { to, text } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`send: ${res.status} ${res.text}`);
  return res.body.message;
}

/** Publishes raw bytes straight to `chat.events`, as a misbehaving publisher would. */
export async function publishRaw(amqpUrl: string, payloads: (string | Buffer)[], contentType = 'application/json'): Promise<void> {
  const conn = await amqpConnect(amqpUrl);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(EVENTS_EXCHANGE, 'fanout', { durable: true });
    for (const p of payloads) ch.publish(EVENTS_EXCHANGE, '', Buffer.isBuffer(p) ? p : Buffer.from(p), { contentType, messageId: randomUUID() });
    await ch.waitForConfirms();
    await ch.close();
  } finally {
    await conn.close();
  }
}

export async function readyz(gatewayUrl: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Every message id after `since` (from the beginning when empty) in a user's timeline, from Chat's sync (the reference). */
export async function syncIds(chatUrl: string, user: TestUser, since: string): Promise<string[]> {
  const ids: string[] = [];
  let after = since;
  for (;;) {
    const page = await request(`${chatUrl}/chat/sync?${after ? `after=${encodeURIComponent(after)}&` : ''}limit=500`, { token: user.token });
    if (page.status !== 200) throw new Error(`sync: ${page.status} ${page.text}`);
    ids.push(...page.body.messages.map((m: { id: string }) => m.id));
    after = page.body.cursor;
    if (!page.body.hasMore) return ids;
  }
}

/** Sends from Alice to Bob at about `perSecond`, recording the ids that got a 201. */
export function keepSending(chatUrl: string, from: TestUser, to: TestUser, perSecond: number) {
  const accepted: string[] = [];
  let failures = 0;
  let running = true;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    const started = Date.now();
    while (running) {
      const due = started + (n * 1000) / perSecond;
      if (Date.now() < due) await sleep(due - Date.now());
      if (inFlight.size >= 50) {
        await Promise.race(inFlight);
        continue;
      }
      const text = `msg ${n++}`;
      const p: Promise<void> = request(`${chatUrl}/chat/send`, { token: from.token, body: { to: to.username, text } })
        .then((res) => {
          if (res.status === 201) accepted.push(res.body.message.id);
          else failures++;
        })
        .catch(() => void failures++)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  })();
  return {
    accepted,
    get failures() {
      return failures;
    },
    get attempted() {
      return n;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Asserts `stream` has every id in `expected` exactly once and nothing else, in the same order. */
export function assertExactlyOnceInOrder(stream: string[], expected: string[], what: string) {
  const seen = new Set<string>();
  const dups = stream.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  assert.deepEqual(dups, [], `${what}: duplicates`);
  const missing = expected.filter((id) => !seen.has(id));
  assert.deepEqual(missing, [], `${what}: missing`);
  assert.deepEqual(stream, expected, `${what}: order`);
}
