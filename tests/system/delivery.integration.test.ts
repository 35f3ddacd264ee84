/**
 * Delivery through the real path: Chat HTTP → outbox → RabbitMQ `chat.events` → this gateway's
 * own queue → every socket of recipient and sender.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeCursor } from '@chat/common/contracts';
import { metricValue, registerAndLogin, sleep, startStack, TestClient, type Stack, type TestUser } from '@chat/testkit';
import { publishRaw, send } from './support.ts';

describe('gateway: delivery', () => {
  let s: Stack;
  let gw: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    // 4 MB: the slow-consumer case still overflows it (16 MB go to a socket that stopped
    // reading, behind at most ~4 MB of kernel buffers), while the socket that does read gets
    // room for the moments this test process, on one event loop with it, spends publishing
    // those 16 MB or collecting garbage; at 256 KB and at 1 MB the reading socket was itself
    // cut now and then (1 run in 14 at 1 MB on an idle 2-core machine).
    s = await startStack({ serviceEnv: { gateway: { MAX_BACKPRESSURE_BYTES: String(4 * 1024 * 1024) } } });
    gw = s.gateways[0]!.url;
    [alice, bob] = await Promise.all([registerAndLogin(s.auth.url), registerAndLogin(s.auth.url)]);
  });
  after(async () => {
    if (process.env.GW_TEST_DEBUG) console.log(s?.gateways[0]?.output().slice(-Number(process.env.GW_TEST_DEBUG_CHARS ?? 6000)));
    await s?.stop();
  });

  it('multi-device: Bob receives, and so do both of Alice\'s devices, each frame with its own user\'s cursor', async () => {
    const bobPhone = await TestClient.connect(gw, bob.token);
    const aliceLaptop = await TestClient.connect(gw, alice.token);
    const alicePhone = await TestClient.connect(gw, alice.token);
    const sent = await send(s.chat!.url, alice, bob.username, 'hello bob');
    for (const [client, owner] of [[bobPhone, bob], [aliceLaptop, alice], [alicePhone, alice]] as const) {
      const frame = await client.next((f) => f.type === 'new_message' && f.message.id === sent.id);
      assert.deepEqual(frame.message, sent);
      assert.equal(decodeCursor(frame.cursor)?.userId, owner.id, 'the cursor belongs to the socket\'s user');
      assert.equal(frame.replayed, undefined);
    }
    for (const c of [bobPhone, aliceLaptop, alicePhone]) c.close();
  });

  it('keeps the stored order within one socket, and each user\'s cursors increase by one', async () => {
    const bobPhone = await TestClient.connect(gw, bob.token);
    const aliceLaptop = await TestClient.connect(gw, alice.token);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await send(s.chat!.url, i % 3 === 0 ? bob : alice, i % 3 === 0 ? alice.username : bob.username, `m${i}`)).id);
    for (const c of [bobPhone, aliceLaptop]) {
      const frames = (await c.waitForCount('new_message', 30)).slice(0, 30);
      assert.deepEqual(frames.map((f) => f.message.id), ids);
      const seqs = frames.map((f) => decodeCursor(f.cursor)!.seq);
      seqs.forEach((seq, i) => i > 0 && assert.equal(seq, seqs[i - 1]! + 1));
      c.close();
    }
  });

  it('delivers a message to oneself once per socket', async () => {
    const a = await TestClient.connect(gw, alice.token);
    const sent = await send(s.chat!.url, alice, alice.username, 'note to self');
    await a.next((f) => f.type === 'new_message' && f.message.id === sent.id);
    await sleep(300);
    assert.equal(a.ofType('new_message').filter((f) => f.message.id === sent.id).length, 1);
    a.close();
  });

  it('routes events by their cursor keys without asking Auth; only an event without cursors is resolved, once per name', async () => {
    const carol = await registerAndLogin(s.auth.url);
    const dave = await registerAndLogin(s.auth.url);
    const c = await TestClient.connect(gw, carol.token);
    const counters = async () => ({
      misses: await metricValue(s.gateways[0]!, 'gateway_user_cache_misses_total'),
      hits: await metricValue(s.gateways[0]!, 'gateway_user_cache_hits_total'),
      consumed: await metricValue(s.gateways[0]!, 'gateway_events_consumed_total'),
    });
    const before = await counters();
    await Promise.all(Array.from({ length: 20 }, (_, i) => send(s.chat!.url, dave, carol.username, `burst ${i}`)));
    await c.waitForCount('new_message', 20);
    const burst = await counters();
    // The broker is shared with other test runs on this machine and the exchange is a fanout:
    // a foreign event without cursors can cost up to two lookups of its own.
    const foreign = burst.consumed - before.consumed - 20;
    assert.ok(burst.misses - before.misses <= 2 * foreign, `${burst.misses - before.misses} lookups for 20 events with cursors (${foreign} foreign events)`);

    // Events as published before they carried cursors: the two names are looked up once, then cached.
    const tag = Date.now().toString(36);
    const legacy = (i: number) =>
      JSON.stringify({ type: 'new_message', version: 1, message: { id: `legacy-${tag}-${i}`, from: dave.username, to: carol.username, text: `legacy ${i}`, createdAt: new Date().toISOString() } });
    await publishRaw(s.infra.amqpUrl, [legacy(1), legacy(2), legacy(3)]);
    await c.waitForCount('new_message', 23);
    const later = await counters();
    const foreignLater = later.consumed - burst.consumed - 3;
    const misses = later.misses - burst.misses;
    assert.ok(misses >= 2 && misses <= 2 + 2 * foreignLater, `${misses} lookups for 3 events without cursors (${foreignLater} foreign events)`);
    assert.ok(later.hits - burst.hits >= 4, `${later.hits - burst.hits} hits`);
    c.close();
  });

  it('counts events nobody here is connected for as dropped (no_local_socket), and measures latency', async () => {
    const watcher = await TestClient.connect(gw, alice.token); // someone is connected, just not them
    const [erin, frank] = await Promise.all([registerAndLogin(s.auth.url), registerAndLogin(s.auth.url)]);
    const before = await metricValue(s.gateways[0]!, 'gateway_events_dropped_total', { reason: 'no_local_socket' });
    await send(s.chat!.url, erin, frank.username, 'nobody listens');
    await waitUntil(async () => (await metricValue(s.gateways[0]!, 'gateway_events_dropped_total', { reason: 'no_local_socket' })) > before);
    assert.ok((await metricValue(s.gateways[0]!, 'gateway_delivery_latency_seconds_count')) > 0);
    assert.ok((await metricValue(s.gateways[0]!, 'gateway_events_delivered_total')) > 0);
    watcher.close();
  });

  it('survives malformed events published straight to chat.events, and keeps delivering', async () => {
    const b = await TestClient.connect(gw, bob.token);
    const malformedBefore = await metricValue(s.gateways[0]!, 'gateway_events_dropped_total', { reason: 'malformed' });
    await publishRaw(s.infra.amqpUrl, [
      '{not json',
      'null',
      '[]',
      JSON.stringify({ type: 'new_message', version: 2, message: {} }),
      JSON.stringify({ type: 'new_message', version: 1, message: { id: 1, from: 'a', to: 'b', text: 'x', createdAt: 'now' } }),
      JSON.stringify({ type: 'new_message', version: 1, message: { id: 'x', from: 'a', to: 'b', text: 'x', createdAt: 'now' }, cursors: 'nope' }),
      Buffer.from([0xff, 0xfe, 0x00]),
    ]);
    await publishRaw(s.infra.amqpUrl, ['plain text'], 'text/plain');
    await waitUntil(async () => (await metricValue(s.gateways[0]!, 'gateway_events_dropped_total', { reason: 'malformed' })) >= malformedBefore + 8);
    const sent = await send(s.chat!.url, alice, bob.username, 'still alive');
    await b.next((f) => f.type === 'new_message' && f.message.id === sent.id);
    assert.equal(s.gateways[0]!.proc.exitCode, null);
    const ready = await fetch(`${gw}/readyz`);
    assert.equal(ready.status, 200);
    b.close();
  });

  it('closes a socket that stops reading with 1013 once its backlog passes the bound, without slowing the others', async () => {
    const slow = await TestClient.connect(gw, bob.token);
    const fast = await TestClient.connect(gw, bob.token);
    (slow.ws as any)._socket.pause(); // stop reading: the kernel buffers fill, then uWS's backlog grows
    const BULK = 4000;
    const text = 'x'.repeat(3900);
    // Straight to the exchange (well-formed events), because Chat's HTTP path is slower than needed here.
    const events = Array.from({ length: BULK }, (_, i) => JSON.stringify({
      type: 'new_message', version: 1,
      message: { id: `bulk-${i}`, from: alice.username, to: bob.username, text, createdAt: new Date().toISOString() },
      cursors: {},
    }));
    const startedAt = Date.now();
    await publishRaw(s.infra.amqpUrl, events);
    await fast.waitForCount('new_message', BULK, 30_000);
    const fastMs = Date.now() - startedAt;
    (slow.ws as any)._socket.resume();
    const closed = await slow.waitClosed(15_000);
    assert.equal(closed.code, 1013);
    assert.ok(slow.ofType('new_message').length < BULK, 'the slow socket was cut before the end');
    assert.ok(fast.isOpen);
    assert.ok((await metricValue(s.gateways[0]!, 'gateway_sockets_closed_total', { reason: 'slow_consumer' })) >= 1);
    console.log(`fast socket got ${BULK} x 4 KB frames in ${fastMs} ms while another socket was stalled`);
    fast.close();
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error('condition not met in time');
}
