import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { importPKCS8, SignJWT } from 'jose';
import { decodeCursor } from '@chat/common/contracts';
import { createServiceTokenSource } from '@chat/common/jwt';
import { generateSigningKeyPem, request, sleep, startStack, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { assertEnvelope, eventProbe, send, syncAll, type EventProbe } from './support.js';

let stack: Stack;
let chat: RunningService;
let probe: EventProbe;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' } });
  [chat, probe] = await Promise.all([stack.start('chat'), eventProbe(stack.env.AMQP_URL!)]);
  [alice, bob] = await Promise.all([stack.user('Alice'), stack.user('Bob')]);
  await waitFor('chat ready', async () => (await request(`${chat.url}/readyz`)).status === 200, 20_000, 100);
});
after(async () => {
  await probe?.close();
  await stack?.stop();
});

async function signUserToken(claims: { sub: string; username: string }, opts: { expiresAt: number; key?: string; kid?: boolean }) {
  const pem = opts.key ?? stack.env.JWT_PRIVATE_KEY!;
  const jwks = await request(`${stack.auth.url}/.well-known/jwks.json`);
  const kid = jwks.body.keys[0].kid as string | undefined;
  const header: { alg: string; kid?: string } = { alg: 'ES256' };
  if (kid && opts.kid !== false) header.kid = kid;
  return new SignJWT({ username: claims.username })
    .setProtectedHeader(header)
    .setIssuer('chat-auth')
    .setAudience('chat')
    .setSubject(claims.sub)
    .setIssuedAt(opts.expiresAt - 3600)
    .setExpirationTime(opts.expiresAt)
    .sign(await importPKCS8(pem, 'ES256'));
}

describe('authentication', () => {
  test('every endpoint needs a valid bearer token: missing, malformed, expired, foreign-key and service tokens get 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await signUserToken({ sub: alice.id, username: alice.username }, { expiresAt: now - 120 });
    const foreign = await signUserToken({ sub: alice.id, username: alice.username }, { expiresAt: now + 600, key: generateSigningKeyPem() });
    const serviceToken = await createServiceTokenSource('chat', stack.env.SERVICE_TOKEN_SECRET!)();
    const tampered = `${alice.token.slice(0, -4)}AAAA`;
    const endpoints: Array<{ path: string; body?: unknown }> = [
      { path: '/chat/send', body: { to: bob.username, text: 'hi' } },
      { path: `/chat/history?with=${bob.username}` },
      { path: '/chat/sync' },
    ];
    for (const { path, body } of endpoints) {
      assertEnvelope(await request(`${chat.url}${path}`, { body }), 401, 'unauthorized');
      for (const token of ['garbage', expired, foreign, serviceToken, tampered]) {
        assertEnvelope(await request(`${chat.url}${path}`, { body, token }), 401, 'unauthorized');
      }
      assertEnvelope(await request(`${chat.url}${path}`, { body, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'unauthorized');
    }
    // The same claims signed by Auth's own key and still valid are accepted: the 401s above are about the token.
    const valid = await signUserToken({ sub: alice.id, username: alice.username }, { expiresAt: now + 600 });
    assert.equal((await request(`${chat.url}/chat/sync`, { token: valid })).status, 200);
  });
});

describe('POST /chat/send', () => {
  test('201 with the message: registered spellings, ISO UTC createdAt, opaque id, clientMsgId echoed', async () => {
    const res = await send(chat.url, alice, { to: bob.username.toUpperCase(), text: 'hello Bob', clientMsgId: 'c-1' });
    assert.equal(res.status, 201, res.text);
    const m = res.body.message;
    assert.deepEqual(Object.keys(res.body), ['message']);
    assert.deepEqual(Object.keys(m).sort(), ['clientMsgId', 'conversationId', 'createdAt', 'from', 'id', 'text', 'to']);
    const pair = [alice.id, bob.id].sort();
    assert.equal(m.conversationId, `dm:${pair[0]}:${pair[1]}`, 'one stable id per pair, whoever sends');
    assert.equal(m.from, alice.username);
    assert.equal(m.to, bob.username, 'the registered spelling, not the one in the request');
    assert.equal(m.text, 'hello Bob');
    assert.equal(m.clientMsgId, 'c-1');
    assert.equal(typeof m.id, 'string');
    assert.ok(m.id.length > 0);
    assert.match(m.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(m.createdAt) - Date.now()) < 60_000);

    const plain = await send(chat.url, alice, { to: bob.username.toLowerCase(), text: 'no client id' });
    assert.equal(plain.status, 201, plain.text);
    assert.equal('clientMsgId' in plain.body.message, false);
    assert.notEqual(plain.body.message.id, m.id);
  });

  test('the sender is always the token user: a from field in the body is ignored', async () => {
    const res = await send(chat.url, alice, { to: bob.username, text: 'spoof?', from: bob.username, fromId: bob.id });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.message.from, alice.username);
  });

  test('an unknown recipient gets 404 user_not_found; sending to yourself is allowed and stored once', async () => {
    assertEnvelope(await send(chat.url, alice, { to: 'nobody_here_xyz', text: 'hi' }), 404, 'user_not_found');
    // A name outside the username rule is malformed, not unknown (@chat/common's username rule).
    assertEnvelope(await send(chat.url, alice, { to: 'no such/user', text: 'hi' }), 400, 'invalid_request');
    const note = await stack.user('self');
    const res = await send(chat.url, note, { to: note.username, text: 'note to self' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.message.from, note.username);
    assert.equal(res.body.message.to, note.username);
    const { messages } = await syncAll(chat.url, note);
    assert.deepEqual(messages.map((m) => m.id), [res.body.message.id]);
    const history = await request(`${chat.url}/chat/history?with=${note.username}`, { token: note.token });
    assert.deepEqual(history.body.messages.map((m: { id: string }) => m.id), [res.body.message.id]);
  });

  test('text: 1 to 4000 characters, not whitespace-only, a string; stored exactly as sent', async () => {
    const bad: unknown[] = ['', ' ', '\n\t  \u00a0\u2003', 'x'.repeat(4001), '😀'.repeat(4001), 42, true, null, ['a'], { $ne: null }, 'lone \ud800 surrogate', 'a \u0000 nul'];
    for (const text of bad) assertEnvelope(await send(chat.url, alice, { to: bob.username, text }), 400, 'invalid_request');
    assertEnvelope(await send(chat.url, alice, { to: bob.username }), 400, 'invalid_request');

    const exact = ['  padded\n\ttext  ', 'x'.repeat(4000), '😀'.repeat(4000), 'ünïcödé ✓ 中文 \u0001 \u200f\u202e controls', 'a'];
    const sent: string[] = [];
    for (const text of exact) {
      const res = await send(chat.url, alice, { to: bob.username, text });
      assert.equal(res.status, 201, `${text.slice(0, 20)}: ${res.text}`);
      assert.equal(res.body.message.text, text);
      sent.push(res.body.message.id);
    }
    const history = await request(`${chat.url}/chat/history?with=${alice.username}&limit=${exact.length}`, { token: bob.token });
    assert.equal(history.status, 200, history.text);
    const byId = new Map(history.body.messages.map((m: { id: string; text: string }) => [m.id, m.text]));
    exact.forEach((text, i) => assert.equal(byId.get(sent[i]), text));
  });

  test('to and clientMsgId are type-checked before any lookup or query', async () => {
    for (const to of [undefined, 1, null, { $ne: null }, ['x'], '', 'y'.repeat(65)]) {
      assertEnvelope(await send(chat.url, alice, { to, text: 'hi' }), 400, 'invalid_request');
    }
    for (const clientMsgId of ['', 'z'.repeat(65), 7, null, { $gt: '' }, ['a'], 'nul\u0000id']) {
      assertEnvelope(await send(chat.url, alice, { to: bob.username, text: 'hi', clientMsgId }), 400, 'invalid_request');
    }
    const longest = await send(chat.url, alice, { to: bob.username, text: 'hi', clientMsgId: 'k'.repeat(64) });
    assert.equal(longest.status, 201, longest.text);
  });

  test('body hygiene: 415 for non-JSON, 413 over the limit, 400 for malformed JSON or a non-object', async () => {
    const url = `${chat.url}/chat/send`;
    assertEnvelope(await request(url, { method: 'POST', raw: 'to=bob&text=hi', token: alice.token, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    assertEnvelope(await request(url, { method: 'POST', raw: '{"to":"b","text":"hi"}', token: alice.token, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    assertEnvelope(await request(url, { body: { to: bob.username, text: 'x'.repeat(17 * 1024) }, token: alice.token }), 413, 'payload_too_large');
    assertEnvelope(await request(url, { method: 'POST', raw: '{"to":', token: alice.token, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    assertEnvelope(await request(url, { method: 'POST', raw: '[1,2]', token: alice.token, headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  });
});

describe('idempotency', () => {
  test('a repeat gets 200 and the original; a different payload gets 422 idempotency_conflict', async () => {
    const first = await send(chat.url, alice, { to: bob.username, text: 'once', clientMsgId: 'idem-1' });
    assert.equal(first.status, 201, first.text);
    const again = await send(chat.url, alice, { to: bob.username.toUpperCase(), text: 'once', clientMsgId: 'idem-1' });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body.message, first.body.message);

    assertEnvelope(await send(chat.url, alice, { to: bob.username, text: 'changed', clientMsgId: 'idem-1' }), 422, 'idempotency_conflict');
    const carol = await stack.user('carol');
    assertEnvelope(await send(chat.url, alice, { to: carol.username, text: 'once', clientMsgId: 'idem-1' }), 422, 'idempotency_conflict');
    // The key is per sender: Bob may use the same clientMsgId for his own message.
    const bobs = await send(chat.url, bob, { to: alice.username, text: 'once', clientMsgId: 'idem-1' });
    assert.equal(bobs.status, 201, bobs.text);
    assert.notEqual(bobs.body.message.id, first.body.message.id);

    const history = await request(`${chat.url}/chat/history?with=${bob.username}&limit=100`, { token: alice.token });
    assert.equal(history.body.messages.filter((m: { id: string }) => m.id === first.body.message.id).length, 1);
  });

  test('racing repeats store once and publish once', async () => {
    const dave = await stack.user('dave');
    const body = { to: dave.username, text: 'raced', clientMsgId: 'race-1' };
    const results = await Promise.all(Array.from({ length: 12 }, () => send(chat.url, alice, body)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201], results.map((r) => r.text).join('\n'));
    const ids = new Set(results.map((r) => r.body.message.id));
    assert.equal(ids.size, 1);
    const [id] = ids;

    const stored = await (await stack.db('chat')).collection('messages').countDocuments({ clientMsgId: 'race-1', to: dave.username });
    assert.equal(stored, 1);
    assert.deepEqual((await syncAll(chat.url, dave)).messages.map((m) => m.id), [id]);
    await probe.waitForIds([id!]);
    await sleep(3_500); // longer than the relay delay: a second publish would have happened by now
    assert.equal(probe.ids().filter((x) => x === id).length, 1, 'published exactly once');
  });
});

describe('GET /chat/history', () => {
  test('newest first, limit default 50, and a walk of nextBefore returns every message exactly once while new ones arrive', async () => {
    const [erin, frank] = await Promise.all([stack.user('erin'), stack.user('frank')]);
    const initial: string[] = [];
    for (let i = 0; i < 57; i++) {
      const from = i % 3 === 0 ? frank : erin;
      const res = await send(chat.url, from, { to: from === erin ? frank.username : erin.username, text: `m${i}` });
      assert.equal(res.status, 201, res.text);
      initial.push(res.body.message.id);
    }
    const first = await request(`${chat.url}/chat/history?with=${frank.username}`, { token: erin.token });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(Object.keys(first.body).sort(), ['messages', 'nextBefore']);
    assert.equal(first.body.messages.length, 50);
    assert.deepEqual(first.body.messages.map((m: { id: string }) => m.id), initial.slice(-50).reverse());

    // Walk with a small page while more messages arrive concurrently.
    const arriving: string[] = [];
    let sending = true;
    const writer = (async () => {
      for (let i = 0; sending && i < 40; i++) {
        const res = await send(chat.url, frank, { to: erin.username, text: `late${i}` });
        arriving.push(res.body.message.id);
      }
    })();
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const qs: string = `with=${frank.username.toUpperCase()}&limit=4${before ? `&before=${before}` : ''}`;
      const page = await request(`${chat.url}/chat/history?${qs}`, { token: erin.token });
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.messages.map((m: { id: string }) => m.id));
      before = page.body.nextBefore;
      pages++;
      await sleep(5);
    } while (before);
    sending = false;
    await writer;

    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    const startIndex = seen.indexOf(initial.at(-1)!);
    const fromStart = seen.slice(startIndex);
    assert.deepEqual(fromStart, [...initial].reverse(), 'every message that existed when the walk started, newest first');
    for (const id of seen.slice(0, startIndex)) assert.ok(arriving.includes(id), 'anything before it arrived during the walk');
    assert.ok(pages >= 15);
    // The conversation is the same from the other side.
    const fromFrank = await request(`${chat.url}/chat/history?with=${erin.username}&limit=100`, { token: frank.token });
    assert.deepEqual(fromFrank.body.messages.map((m: { id: string }) => m.id).slice(-initial.length), [...initial].reverse());
  });

  test('only the conversation with that user; the last page has nextBefore null', async () => {
    const [gina, hank, ivan] = await Promise.all([stack.user('gina'), stack.user('hank'), stack.user('ivan')]);
    const toHank = await send(chat.url, gina, { to: hank.username, text: 'to hank' });
    await send(chat.url, gina, { to: ivan.username, text: 'to ivan' });
    await send(chat.url, ivan, { to: gina.username, text: 'from ivan' });
    const res = await request(`${chat.url}/chat/history?with=${hank.username}&limit=1`, { token: gina.token });
    assert.deepEqual(res.body, { messages: [toHank.body.message], nextBefore: null });
    const none = await request(`${chat.url}/chat/history?with=${alice.username}`, { token: hank.token });
    assert.deepEqual(none.body, { messages: [], nextBefore: null });
  });

  test('404 for an unknown user; 400 for a bad with, limit or before', async () => {
    assertEnvelope(await request(`${chat.url}/chat/history?with=ghost_user_zz`, { token: alice.token }), 404, 'user_not_found');
    const base = `${chat.url}/chat/history?with=${bob.username}`;
    assertEnvelope(await request(`${chat.url}/chat/history`, { token: alice.token }), 400, 'invalid_request');
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '', '1e2']) {
      assertEnvelope(await request(`${base}&limit=${limit}`, { token: alice.token }), 400, 'invalid_request');
    }
    assertEnvelope(await request(`${base}&limit=1&limit=2`, { token: alice.token }), 400, 'invalid_request');
    const bobsCursor = (await request(`${chat.url}/chat/sync`, { token: bob.token })).body.cursor;
    for (const before of ['garbage', 'Yzo6MQ', bobsCursor, '%24ne']) {
      assertEnvelope(await request(`${base}&before=${before}`, { token: alice.token }), 400, 'invalid_request');
    }
    assert.equal((await request(`${base}&limit=100`, { token: alice.token })).status, 200);
    assert.equal((await request(`${base}&limit=1`, { token: alice.token })).status, 200);
  });
});

describe('GET /chat/sync', () => {
  test('from the beginning, oldest first, paged by cursor with hasMore; the cursor stays put when nothing is new', async () => {
    const [jack, kate] = await Promise.all([stack.user('jack'), stack.user('kate')]);
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await send(chat.url, i % 2 ? jack : kate, { to: i % 2 ? kate.username : jack.username, text: `s${i}` });
      sent.push(res.body.message.id);
    }
    const first = await request(`${chat.url}/chat/sync?limit=3`, { token: jack.token });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(Object.keys(first.body).sort(), ['cursor', 'hasMore', 'messages']);
    assert.deepEqual(first.body.messages.map((m: { id: string }) => m.id), sent.slice(0, 3));
    assert.equal(first.body.hasMore, true);
    const second = await request(`${chat.url}/chat/sync?limit=3&after=${first.body.cursor}`, { token: jack.token });
    assert.deepEqual(second.body.messages.map((m: { id: string }) => m.id), sent.slice(3, 6));
    const third = await request(`${chat.url}/chat/sync?limit=3&after=${second.body.cursor}`, { token: jack.token });
    assert.deepEqual(third.body.messages.map((m: { id: string }) => m.id), sent.slice(6));
    assert.equal(third.body.hasMore, false);
    const idle = await request(`${chat.url}/chat/sync?after=${third.body.cursor}`, { token: jack.token });
    assert.deepEqual(idle.body, { messages: [], cursor: third.body.cursor, hasMore: false });
    const next = await send(chat.url, kate, { to: jack.username, text: 'new' });
    const after = await request(`${chat.url}/chat/sync?after=${idle.body.cursor}`, { token: jack.token });
    assert.deepEqual(after.body.messages, [next.body.message]);
    // A user with nothing yet starts at an empty cursor of their own.
    const fresh = await stack.user('fresh');
    const empty = await request(`${chat.url}/chat/sync`, { token: fresh.token });
    assert.deepEqual(empty.body.messages, []);
    assert.deepEqual(decodeCursor(empty.body.cursor), { userId: fresh.id, seq: 0 });
  });

  test('400 for a bad limit, a malformed cursor, or another user\'s cursor', async () => {
    for (const limit of ['0', '501', 'x', '-3', '2.5']) {
      assertEnvelope(await request(`${chat.url}/chat/sync?limit=${limit}`, { token: alice.token }), 400, 'invalid_request');
    }
    assert.equal((await request(`${chat.url}/chat/sync?limit=500`, { token: alice.token })).status, 200);
    const bobsCursor = (await request(`${chat.url}/chat/sync`, { token: bob.token })).body.cursor;
    for (const after of ['nope', '!!', bobsCursor, Buffer.from(`c1:${alice.id}:-1`).toString('base64url')]) {
      assertEnvelope(await request(`${chat.url}/chat/sync?after=${encodeURIComponent(after)}`, { token: alice.token }), 400, 'invalid_request');
    }
  });
});

describe('events', () => {
  test('a consumer bound to chat.events receives exactly the stored messages, as persistent JSON with cursors', async () => {
    const [lena, mike] = await Promise.all([stack.user('lena'), stack.user('mike')]);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const res = await send(chat.url, i % 2 ? lena : mike, { to: i % 2 ? mike.username : lena.username, text: `e${i}`, ...(i % 3 ? { clientMsgId: `e-${i}` } : {}) });
        assert.equal(res.status, 201, res.text);
        ids.push(res.body.message.id);
      }),
    );
    const self = await send(chat.url, lena, { to: lena.username, text: 'self' });
    ids.push(self.body.message.id);
    await probe.waitForIds(ids);

    const stored = (await syncAll(chat.url, lena)).messages;
    assert.deepEqual(new Set(stored.map((m) => m.id)), new Set(ids));
    const mine = probe.events.filter((e) => e.event.message.from === lena.username || e.event.message.from === mike.username);
    assert.deepEqual(mine.map((e) => e.event.message.id).sort(), [...ids].sort(), 'exactly the stored messages, once each');
    for (const { event, properties, raw } of mine) {
      assert.deepEqual(Object.keys(raw as object), ['type', 'version', 'message', 'cursors']);
      assert.equal(event.type, 'new_message');
      assert.equal(event.version, 1);
      assert.deepEqual(event.message, stored.find((m) => m.id === event.message.id), 'the same shape as the API');
      assert.equal(properties.deliveryMode, 2, 'persistent');
      assert.equal(properties.contentType, 'application/json');
      assert.equal(properties.messageId, event.message.id);
      const participants = new Set([event.message.from === lena.username ? lena.id : mike.id, event.message.to === lena.username ? lena.id : mike.id]);
      assert.deepEqual(new Set(Object.keys(event.cursors)), participants);
      // Each participant's cursor ends exactly at this message: sync from the cursor before it yields it.
      for (const [userId, cursor] of Object.entries(event.cursors)) {
        const decoded = decodeCursor(cursor);
        assert.equal(decoded?.userId, userId);
        const user = userId === lena.id ? lena : mike;
        const at = await request(`${chat.url}/chat/sync?limit=1&after=${Buffer.from(`c1:${userId}:${decoded!.seq - 1}`).toString('base64url')}`, { token: user.token });
        assert.equal(at.body.messages[0].id, event.message.id);
      }
    }
    const db = await stack.db('chat');
    await waitFor('published state', async () => (await db.collection('messages').countDocuments({ published: false })) === 0, 10_000);
  });
});

describe('health and metrics', () => {
  test('/healthz, /readyz with named checks; /metrics with the contract series on METRICS_PORT only', async () => {
    assert.deepEqual((await request(`${chat.url}/healthz`)).body, { status: 'ok' });
    const ready = await request(`${chat.url}/readyz`);
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.body.checks, { draining: true, database: true, broker: true });
    await sleep(1_200); // one relay tick refreshes the backlog gauge
    assert.equal((await request(`${chat.url}/metrics`)).status, 404, 'the public port serves no /metrics');
    const metrics = await request(`${chat.metricsUrl}/metrics`);
    assert.equal(metrics.status, 200);
    for (const series of ['chat_messages_stored_total', 'chat_events_published_total', 'chat_outbox_backlog', 'http_request_duration_seconds_bucket', 'process_cpu_user_seconds_total']) {
      assert.match(metrics.text, new RegExp(`^${series}\\{[^}]*service="chat"`, 'm'), series);
    }
    assert.match(metrics.text, /^chat_outbox_backlog\{service="chat"\} 0$/m);
    assert.match(metrics.text, /http_request_duration_seconds_count\{[^}]*route="\/chat\/send"[^}]*method="POST"[^}]*status="201"/);
    const stored = Number(/^chat_messages_stored_total\{[^}]*\} (\d+)/m.exec(metrics.text)?.[1]);
    const published = Number(/^chat_events_published_total\{[^}]*\} (\d+)/m.exec(metrics.text)?.[1]);
    assert.ok(stored > 50 && published >= stored, `stored ${stored}, published ${published}`);
  });

  test('database round trips per request, from the driver: a send costs 3 (message, two timeline entries); a page read one per bucket', async () => {
    const [carl, dana] = await Promise.all([stack.user('Carl'), stack.user('Dana')]);
    // The first send of a conversation looks up where its sequences end; the rest know it.
    assert.equal((await send(chat.url, carl, { to: dana.username, text: 'warm-up' })).status, 201);
    const trips = async () => {
      const text = (await request(`${chat.metricsUrl}/metrics`)).text;
      const read = (route: string, method: string, status: string, suffix: string) =>
        Number(new RegExp(`^chat_db_round_trips_per_request_${suffix}\\{[^}]*route="${route}",method="${method}",status="${status}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return {
        sends: read('/chat/send', 'POST', '201', 'count'),
        sendTrips: read('/chat/send', 'POST', '201', 'sum'),
        syncs: read('/chat/sync', 'GET', '200', 'count'),
        syncTrips: read('/chat/sync', 'GET', '200', 'sum'),
      };
    };
    const before = await trips();
    for (let i = 0; i < 10; i++) assert.equal((await send(chat.url, i % 2 ? carl : dana, { to: i % 2 ? dana.username : carl.username, text: `n${i}` })).status, 201);
    assert.equal((await request(`${chat.url}/chat/sync?limit=5`, { token: carl.token })).status, 200);
    const afterward = await trips();
    assert.equal(afterward.sends - before.sends, 10);
    assert.equal(afterward.sendTrips - before.sendTrips, 30, 'each send: one message insert and one insert per timeline');
    assert.equal(afterward.syncs - before.syncs, 1);
    assert.equal(afterward.syncTrips - before.syncTrips, 1, 'a page within one bucket is one read');
    // A replay asks for up to 500 (REPLAY_PAGE_SIZE), six buckets' worth: while the timeline ends
    // in the first bucket, that is still one read, not six.
    assert.equal((await request(`${chat.url}/chat/sync?limit=500`, { token: carl.token })).status, 200);
    assert.equal((await trips()).syncTrips - afterward.syncTrips, 1, 'a page that ends in its first bucket is one read, whatever its limit');
  });

  test('unknown routes and wrong methods answer in the envelope', async () => {
    assertEnvelope(await request(`${chat.url}/chat/nope`, { token: alice.token }), 404, 'not_found');
    assertEnvelope(await request(`${chat.url}/chat/send`, { token: alice.token }), 405, 'method_not_allowed');
  });
});
