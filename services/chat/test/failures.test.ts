/**
 * Failure injection: broker down, database down, a crash between insert and publish.
 *
 * These stop and start servers, so they run on a private @chat/infra instance
 * (CHAT_INFRA_DIR) and never disturb the shared one other tests and developers use. They skip
 * when the servers come from MONGO_URL/AMQP_URL, which @chat/infra cannot control.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import * as infra from '@chat/infra';
import { repoRoot, request, sleep, startStack, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { assertEnvelope, eventProbe, send, syncAll, type EventProbe } from './support.js';

// @chat/infra reads this on every call, so setting it before the first call is enough. The
// shared instance (`<repo>/.infra`, what CHAT_INFRA_DIR names when tests share servers) is never
// the one stopped: only a CHAT_INFRA_DIR naming another, private instance is used as given.
const givenDir = process.env.CHAT_INFRA_DIR;
if (!givenDir || resolve(repoRoot(), givenDir) === join(repoRoot(), '.infra')) process.env.CHAT_INFRA_DIR = join(repoRoot(), '.infra', 'chat-failure-tests');

const controllable = (await infra.canControl('rabbit')) && (await infra.canControl('mongo'));
const skip = controllable ? false : 'MONGO_URL/AMQP_URL point at servers @chat/infra cannot stop and start';

let stack: Stack;
let probe: EventProbe;
let chat: RunningService;
let alice: TestUser;
let bob: TestUser;
let startedInfraHere = false;

before(async () => {
  if (skip) return;
  const status = await infra.infraStatus();
  startedInfraHere = !status.every((s) => s.healthy);
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' } });
  // Durable (the default): it keeps what is published while the broker restarts and we reconnect.
  probe = await eventProbe(stack.env.AMQP_URL!);
  chat = await stack.start('chat');
  [alice, bob] = await Promise.all([stack.user('alice'), stack.user('bob')]);
});

after(async () => {
  if (skip) return;
  // Whatever happened, leave the servers running for the next test.
  await infra.startRabbit().catch(() => undefined);
  await infra.startMongo().catch(() => undefined);
  await probe?.close();
  await stack?.stop();
  if (startedInfraHere) await infra.stopInfra();
});

const readiness = async (url: string) => (await request(`${url}/readyz`)).body;

describe('failure injection', { skip }, () => {
  test('database down: send gets 503 unavailable quickly, nothing is published, readiness says so; it recovers', async () => {
    // Warm the recipient cache and key set: Auth shares this database, and the 503 under test must be Chat's own.
    assert.equal((await send(chat.url, alice, { to: bob.username, text: 'warm-up' })).status, 201);
    await infra.stopMongo();
    try {
      const started = Date.now();
      const res = await send(chat.url, alice, { to: bob.username, text: 'while the database is down', clientMsgId: 'db-down-1' });
      const elapsed = Date.now() - started;
      assertEnvelope(res, 503, 'unavailable');
      assert.match(res.body.error!.message, /database/);
      assert.ok(elapsed < 4_000, `answered in ${elapsed} ms`);
      const ready = await readiness(chat.url);
      assert.equal(ready.error.details.checks.database, false);
      assert.equal(ready.error.details.checks.broker, true);
      // Sync and history are 503 too, never 500.
      assertEnvelope(await request(`${chat.url}/chat/sync`, { token: alice.token }), 503, 'unavailable');
    } finally {
      await infra.startMongo();
    }
    await waitFor('chat ready again', async () => (await request(`${chat.url}/readyz`)).status === 200, 20_000, 200);
    const after = await send(chat.url, alice, { to: bob.username, text: 'after the outage' });
    assert.equal(after.status, 201, after.text);
    await probe.waitForIds([after.body.message.id]);
    await sleep(2_500); // a relay pass past its delay
    assert.equal(probe.events.filter((e) => e.event.message.text === 'while the database is down').length, 0, 'no event for a message that was not stored');
    const stored = await (await stack.db('chat')).collection('messages').countDocuments({ clientMsgId: 'db-down-1' });
    assert.equal(stored, 0);
  });

  for (const crashPoint of ['after_insert', 'after_timeline'] as const) {
    test(`crash ${crashPoint.replace('_', ' ')}: after a restart the relay completes and publishes the message`, async () => {
      // No other replica runs meanwhile: the publish must come from the restarted process.
      await chat.stop();
      const doomed = await stack.start('chat', { env: { CHAT_TEST_CRASH_POINT: crashPoint } });
      const clientMsgId = `crash-${crashPoint}`;
      const res = await send(doomed.url, alice, { to: bob.username, text: `dies ${crashPoint}`, clientMsgId }).catch((err: Error) => err);
      assert.ok(res instanceof Error, 'the process died before answering');
      assert.equal(await doomed.exited, 'SIGKILL');

      const db = await stack.db('chat');
      const stored = await db.collection('messages').findOne({ clientMsgId, fromId: alice.id });
      assert.ok(stored, 'the insert happened');
      assert.equal(stored.published, false);
      const id = stored._id.toHexString();
      const entries = await db.collection<{ _id: string }>('timeline').countDocuments({ _id: { $in: [`${alice.id}:${id}`, `${bob.id}:${id}`] } });
      assert.equal(entries, crashPoint === 'after_insert' ? 0 : 2);
      assert.equal(probe.ids().includes(id), false, 'not published before the crash');

      const fresh = await stack.start('chat');
      await probe.waitForIds([id], 20_000);
      const event = probe.events.find((e) => e.event.message.id === id)!.event;
      assert.deepEqual(new Set(Object.keys(event.cursors)), new Set([alice.id, bob.id]));
      for (const user of [alice, bob]) assert.ok((await syncAll(fresh.url, user)).messages.some((m) => m.id === id), `${user.username} sees it in sync`);
      await waitFor('marked published', async () => (await db.collection('messages').findOne({ _id: stored._id }))?.published === true, 10_000);
      // The client's retry after the crash gets the original.
      const retry = await send(fresh.url, alice, { to: bob.username, text: `dies ${crashPoint}`, clientMsgId });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.body.message.id, id);
      await fresh.stop();
    });
  }

  test('crash after a group message was stored: the relay completes it to the members it was stored with, not to one added since', async () => {
    if (chat.proc.exitCode === null && chat.proc.signalCode === null) await chat.stop();
    const carol = await stack.user('Carol');
    const setup = await stack.start('chat');
    const created = await request(`${setup.url}/conversations`, { token: alice.token, body: { name: 'crash', members: [bob.username] } });
    assert.equal(created.status, 201, created.text);
    const groupId = created.body.conversation.id as string;
    await setup.stop();
    const doomed = await stack.start('chat', { env: { CHAT_TEST_CRASH_POINT: 'after_insert' } });
    const res = await send(doomed.url, alice, { conversationId: groupId, text: 'dies in a group', clientMsgId: 'crash-group' }).catch((err: Error) => err);
    assert.ok(res instanceof Error, 'the process died before answering');
    assert.equal(await doomed.exited, 'SIGKILL');
    const db = await stack.db('chat');
    const stored = await db.collection('messages').findOne({ clientMsgId: 'crash-group', fromId: alice.id });
    assert.ok(stored, 'the insert happened');
    const id = stored._id.toHexString();

    const fresh = await stack.start('chat');
    const added = await request(`${fresh.url}/conversations/${groupId}/members`, { token: alice.token, body: { members: [carol.username] } });
    assert.equal(added.status, 200, added.text);
    await probe.waitForIds([id], 20_000);
    const event = probe.events.find((e) => e.event.message.id === id)!.event;
    assert.deepEqual(new Set(Object.keys(event.cursors)), new Set([alice.id, bob.id]), 'the recipients it was stored with');
    for (const user of [alice, bob]) assert.ok((await syncAll(fresh.url, user)).messages.some((m) => m.id === id), `${user.username} sees it in sync`);
    assert.equal((await syncAll(fresh.url, carol)).messages.some((m) => m.id === id), false, 'the newcomer does not');
    const retry = await send(fresh.url, alice, { conversationId: groupId, text: 'dies in a group', clientMsgId: 'crash-group' });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.message.id, id);
    chat = fresh;
  });

  test('broker down: 100 sends get 201, readiness reports the broker down, and all 100 events arrive once it is back, with no restart', async () => {
    if (chat.proc.exitCode !== null || chat.proc.signalCode !== null) chat = await stack.start('chat');
    await waitFor('chat ready', async () => (await request(`${chat.url}/readyz`)).status === 200, 20_000, 100);
    const pid = chat.proc.pid;
    await infra.stopRabbit();
    let ids: string[] = [];
    try {
      await waitFor('readiness to report the broker down', async () => (await readiness(chat.url)).error?.details?.checks?.broker === false, 10_000, 100);
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, worker) => {
          const mine: string[] = [];
          for (let i = 0; i < 10; i++) {
            const res = await send(chat.url, i % 2 ? alice : bob, { to: i % 2 ? bob.username : alice.username, text: `offline ${worker}.${i}` });
            assert.equal(res.status, 201, res.text);
            mine.push(res.body.message.id);
          }
          return mine;
        }),
      );
      ids = results.flat();
      assert.equal(ids.length, 100);
      const pending = await (await stack.db('chat')).collection('messages').countDocuments({ published: false });
      assert.ok(pending >= 100, `${pending} unpublished`);
      await waitFor('backlog gauge', async () => {
        const metrics = (await request(`${chat.metricsUrl}/metrics`)).text;
        return Number(/^chat_outbox_backlog\{[^}]*\} (\d+)/m.exec(metrics)?.[1]) >= 100;
      }, 10_000, 200);
    } finally {
      await infra.startRabbit();
    }
    await probe.waitForIds(ids, 45_000);
    assert.equal(chat.proc.pid, pid);
    assert.equal(chat.proc.exitCode, null, 'chat did not restart or exit');
    await waitFor('chat ready again', async () => (await request(`${chat.url}/readyz`)).status === 200, 20_000, 200);
    // And publishing goes on normally after the reconnect.
    const later = await send(chat.url, alice, { to: bob.username, text: 'after the broker came back' });
    await probe.waitForIds([later.body.message.id], 10_000);
    await waitFor('backlog drained', async () => (await (await stack.db('chat')).collection('messages').countDocuments({ published: false })) === 0, 15_000, 200);
  });
});
