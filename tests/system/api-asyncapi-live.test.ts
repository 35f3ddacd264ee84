// Real frames, close codes, events and signals captured from a running stack validate against
// api/asyncapi.yaml's message schemas: every server frame type (ready, new_message live and
// replayed, synced, resync_required, pong, every error code, typing, read, presence online and
// offline), two close codes, the `chat.events` event of each stored message, and every signal
// kind on `chat.ephemeral` that concerns this test's users and gateway.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { compileSchema, createAjv, describeErrors, loadAsyncApi, resolvePointer, type JsonObject } from '@chat/api-specs';
import { EVENTS_EXCHANGE, SIGNALS_EXCHANGE } from '@chat/common/contracts';
import { request, startStack, TestClient, waitFor, type Stack, type TestUser } from '@chat/testkit';
import { CLOSE_CODES } from '../../services/common/src/close-codes.ts';
import { FRAME_ERROR_CODES, SERVER_FRAME_TYPES } from '../../services/common/src/frame-types.ts';
import { SIGNAL_KINDS } from '../../services/common/src/signals.ts';
import { send } from './support.ts';

const spec = loadAsyncApi();
const ajv = createAjv();

/** The message components an operation lists, by the `const` of `field` (or their `name`). */
function validators(operationId: string, key: (m: JsonObject) => string) {
  const refs = ((spec.operations as Record<string, JsonObject>)[operationId]!.messages as Array<{ $ref: string }>).map((m) => {
    let node = resolvePointer(spec, m.$ref) as JsonObject;
    while (typeof node.$ref === 'string') node = resolvePointer(spec, node.$ref) as JsonObject;
    return node;
  });
  return new Map(refs.map((m) => [key(m), compileSchema(ajv, spec, m.payload!)]));
}
const typeConst = (m: JsonObject) => {
  let payload = m.payload as JsonObject;
  if (typeof payload.$ref === 'string') payload = resolvePointer(spec, payload.$ref) as JsonObject;
  return String(((payload.properties as JsonObject).type as JsonObject).const);
};
const serverFrames = validators('sendServerFrames', typeConst);
const events = validators('publishEvents', typeConst);
const signals = validators('publishSignals', (m) => String(m.name));

/** Asserts a frame validates against its type's message, and records what was seen. */
const seenFrames = new Set<string>();
function validFrame(frame: any, label: string): void {
  const validate = serverFrames.get(frame.type);
  assert.ok(validate, `${label}: frame type ${frame.type} is not in asyncapi.yaml`);
  assert.ok(Boolean(validate(frame)), `${label}: ${JSON.stringify(frame).slice(0, 300)} does not match: ${describeErrors(validate)}`);
  seenFrames.add(frame.type === 'error' ? `error:${frame.error.code}` : frame.type === 'presence' ? `presence:${frame.status}` : frame.type);
}

let stack: Stack;
let alice: TestUser, bob: TestUser, carol: TestUser;
let broker: ChannelModel;
const captured: { events: any[]; signals: any[] } = { events: [], signals: [] };

before(async () => {
  stack = await startStack({
    env: { PRESENCE_GRACE_MS: '300', PRESENCE_TIMEOUT_MS: '4500' },
    serviceEnv: { gateway: { REPLAY_LIMIT: '3', MAX_FRAMES_PER_SECOND: '20', RESUME_WINDOW_MS: '50' } },
  });
  // Listen on both exchanges before anything is sent (other tests may share the broker: the
  // checks below keep only what concerns this test's users and gateway).
  broker = await amqpConnect(stack.infra.amqpUrl);
  const ch = await broker.createChannel();
  const q1 = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q1.queue, EVENTS_EXCHANGE, '');
  await ch.consume(q1.queue, (m) => m && captured.events.push(JSON.parse(m.content.toString('utf8'))), { noAck: true });
  const q2 = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(q2.queue, SIGNALS_EXCHANGE, '#');
  await ch.consume(q2.queue, (m) => m && captured.signals.push(JSON.parse(m.content.toString('utf8'))), { noAck: true });
  [alice, bob, carol] = await Promise.all([stack.user('alice'), stack.user('bob'), stack.user('carol')]);
});
after(async () => {
  await broker?.close().catch(() => undefined);
  await stack?.stop();
});

test('every server frame type and error code, captured live, matches its asyncapi message', async () => {
  const gw = stack.gateway.url;
  const bobWs = await TestClient.connect(gw, bob.token);
  validFrame(bobWs.frames[0], 'ready');
  bobWs.send({ type: 'ping' });
  validFrame(await bobWs.next((f) => f.type === 'pong'), 'pong');

  const first = await send(stack.chat.url, alice, bob.username, 'one');
  validFrame(await bobWs.next((f) => f.type === 'new_message' && f.message.id === first.id), 'live new_message');

  // A group, for system messages and a typing refusal; carol is bob's contact through it.
  const group = await request(`${stack.chat.url}/conversations`, { token: alice.token, body: { name: 'Specs', members: [bob.username, carol.username] } });
  assert.equal(group.status, 201);
  validFrame(await bobWs.next((f) => f.type === 'new_message' && f.message.kind === 'system'), 'system new_message');

  bobWs.send('not json');
  validFrame(await bobWs.next((f) => f.type === 'error' && f.error.code === 'bad_frame'), 'bad_frame');
  bobWs.send({ type: 'typing', conversationId: `g:${'0'.repeat(24)}` });
  validFrame(await bobWs.next((f) => f.type === 'error' && f.error.code === 'not_a_member'), 'not_a_member');

  // typing and read, between alice's and bob's sockets.
  const aliceWs = await TestClient.connect(gw, alice.token);
  aliceWs.send({ type: 'typing', conversationId: first.conversationId });
  validFrame(await bobWs.next((f) => f.type === 'typing'), 'typing');
  const read = await request(`${stack.chat.url}/conversations/${encodeURIComponent(first.conversationId)}/read`, { token: bob.token, body: { messageId: first.id } });
  assert.equal(read.status, 200);
  validFrame(await aliceWs.next((f) => f.type === 'read'), 'read');

  // presence: carol (bob's contact through the group) comes and goes.
  const carolWs = await TestClient.connect(gw, carol.token);
  validFrame(await bobWs.next((f) => f.type === 'presence' && f.user.id === carol.id && f.status === 'online'), 'presence online');
  carolWs.close();
  validFrame(await bobWs.next((f) => f.type === 'presence' && f.user.id === carol.id && f.status === 'offline', 15_000), 'presence offline');

  // A resume: replayed messages then synced; past REPLAY_LIMIT, resync_required; a bad cursor, invalid_cursor.
  const cursor = (await bobWs.next((f) => f.type === 'new_message' && f.message.id === first.id)).cursor as string;
  const later = [];
  for (const text of ['two', 'three']) later.push(await send(stack.chat.url, alice, bob.username, text));
  const resumed = await TestClient.connect(gw, bob.token, { since: cursor });
  validFrame(await resumed.next((f) => f.type === 'new_message' && f.replayed === true), 'replayed new_message');
  validFrame(await resumed.next((f) => f.type === 'synced'), 'synced');
  for (const text of ['four', 'five']) await send(stack.chat.url, alice, bob.username, text);
  const tooFar = await TestClient.connect(gw, bob.token, { since: cursor });
  validFrame(await tooFar.next((f) => f.type === 'resync_required'), 'resync_required');
  const badCursor = await TestClient.connect(gw, bob.token);
  badCursor.send({ type: 'resume', since: 'bm90LWEtY3Vyc29y' });
  validFrame(await badCursor.next((f) => f.type === 'error' && f.error.code === 'invalid_cursor'), 'invalid_cursor');

  // Every frame any socket received in this test validates, not only the ones waited for.
  for (const client of [bobWs, aliceWs, carolWs, resumed, tooFar, badCursor]) {
    for (const frame of client.frames) validFrame(frame, 'recorded');
    client.close();
  }
  const expected = [...SERVER_FRAME_TYPES.filter((t) => t !== 'error' && t !== 'presence'), ...FRAME_ERROR_CODES.map((c) => `error:${c}`), 'presence:online', 'presence:offline'];
  assert.deepEqual([...seenFrames].filter((t) => expected.includes(t)).sort(), [...expected].sort(), 'every server frame type and error code was captured');
});

test('close codes the gateway sends are documented with their reason: 1009 frame_too_large, 1008 rate_limited', async () => {
  const documented = (spec.channels as { socket: { 'x-close-codes': Array<{ code: number; reason: string }> } }).socket['x-close-codes'].map((c) => `${c.code} ${c.reason}`);
  const big = await TestClient.connect(stack.gateway.url, alice.token);
  big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(17 * 1024) }));
  const tooLarge = await big.waitClosed();
  assert.deepEqual(tooLarge, { code: CLOSE_CODES.frame_too_large, reason: 'frame_too_large' });
  assert.ok(documented.includes(`${tooLarge.code} ${tooLarge.reason}`));
  const flood = await TestClient.connect(stack.gateway.url, alice.token);
  for (let i = 0; i < 30; i++) flood.send({ type: 'ping' });
  const limited = await flood.waitClosed();
  assert.deepEqual(limited, { code: CLOSE_CODES.rate_limited, reason: 'rate_limited' });
  assert.ok(documented.includes(`${limited.code} ${limited.reason}`));
});

test('chat.events: the event of every message this test stored matches the new_message event schema', async () => {
  const ours = (e: any) => e?.message && [alice.username, bob.username, carol.username].includes(e.message.from);
  const found = await waitFor('this test’s events', () => (captured.events.filter(ours).length >= 6 ? captured.events.filter(ours) : undefined));
  const validate = events.get('new_message')!;
  for (const event of found) assert.ok(validate(event), `${JSON.stringify(event).slice(0, 300)}: ${describeErrors(validate)}`);
});

test('chat.ephemeral: every signal kind, captured live, matches its asyncapi message (bye from a draining gateway)', async () => {
  const ids = new Set([alice.id, bob.id, carol.id]);
  const pod = /"queue":"([^"]+)"/.exec(stack.gateway.output())?.[1];
  assert.ok(pod, 'the gateway logged its queue name');
  // A beat comes every PRESENCE_TIMEOUT_MS ÷ 3 while the gateway runs; the bye when it drains.
  await waitFor('a beat from this test’s gateway', () => captured.signals.some((s) => s.kind === 'beat' && s.pod === pod) || undefined);
  await stack.gateway.stop('SIGTERM');
  const ours = (s: any) => s?.pod === pod || (s?.user && ids.has(s.user.id));
  const kindsSeen = () => [...new Set(captured.signals.filter(ours).map((s) => String(s.kind)))].sort().join(', ');
  const found = await waitFor(`every signal kind of this test (pod ${pod})`, () => {
    const kinds = new Set(captured.signals.filter(ours).map((s) => s.kind));
    return SIGNAL_KINDS.every((k) => kinds.has(k)) ? captured.signals.filter(ours) : undefined;
  }).catch((err: Error) => assert.fail(`${err.message}; seen: ${kindsSeen()}; pods: ${[...new Set(captured.signals.map((s) => s.pod))].join(' ')}`));
  for (const signal of found) {
    const validate = signals.get(signal.kind);
    assert.ok(validate, `signal kind ${signal.kind} is not in asyncapi.yaml`);
    assert.ok(validate(signal), `${JSON.stringify(signal).slice(0, 300)}: ${describeErrors(validate)}`);
  }
});
