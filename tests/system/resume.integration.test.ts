/**
 * Integration tests of reconnect catch-up against real processes (the rules themselves are unit
 * tested in services/gateway/src/socket-streams.test.ts): every message Alice got a 201 for is in Bob's
 * stream exactly once, in order, across disconnects and a killed gateway (the RabbitMQ restart
 * case is in broker-restart.test.ts, which restarts the broker once for both issues).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin, sleep, startStack, TestClient, type Stack, type TestUser } from '@chat/testkit';
import { assertExactlyOnceInOrder, keepSending, send, syncIds } from './support.ts';

const messages = (c: TestClient) => c.ofType('new_message');
const lastCursor = (c: TestClient) => messages(c).at(-1)?.cursor as string;


describe('gateway: reconnect catch-up', () => {
  let s: Stack;
  let alice: TestUser;

  before(async () => {
    s = await startStack({ gateways: 2 });
    alice = await registerAndLogin(s.auth.url);
  });
  after(() => s?.stop());

  const newBob = () => registerAndLogin(s.auth.url);

  it('a disconnected client gets exactly the messages it missed, in order, then synced', async () => {
    const bob = await newBob();
    const gw = s.gateways[0]!.url;
    const first = await TestClient.connect(gw, bob.token);
    const seed = await send(s.chat!.url, alice, bob.username, 'before');
    await first.next((f) => f.type === 'new_message' && f.message.id === seed.id);
    const since = lastCursor(first);
    first.close();
    await first.waitClosed();

    const missed: string[] = [];
    for (let i = 0; i < 50; i++) missed.push((await send(s.chat!.url, alice, bob.username, `missed ${i}`)).id);

    const again = await TestClient.connect(gw, bob.token, { since });
    const synced = await again.next((f) => f.type === 'synced');
    const replayed = messages(again);
    assert.equal(replayed.length, 50);
    assert.ok(replayed.every((f) => f.replayed === true));
    assert.deepEqual(replayed.map((f) => f.message.id), missed);
    assert.equal(synced.cursor, replayed.at(-1).cursor);
    assert.equal(again.frames.indexOf(synced), again.frames.length - 1, 'synced comes after the replay');

    // Then live messages.
    const liveOne = await send(s.chat!.url, alice, bob.username, 'live again');
    const frame = await again.next((f) => f.type === 'new_message' && f.message.id === liveOne.id);
    assert.equal(frame.replayed, undefined);
    again.close();
  });

  it('the same resume works as a first frame', async () => {
    const bob = await newBob();
    const gw = s.gateways[1]!.url;
    const first = await TestClient.connect(gw, bob.token);
    const seed = await send(s.chat!.url, alice, bob.username, 'seed');
    await first.next((f) => f.type === 'new_message' && f.message.id === seed.id);
    const since = lastCursor(first);
    first.close();
    const missed = [(await send(s.chat!.url, alice, bob.username, 'one')).id, (await send(s.chat!.url, alice, bob.username, 'two')).id];
    const again = await TestClient.connect(gw, bob.token);
    again.send({ type: 'resume', since });
    await again.next((f) => f.type === 'synced');
    assert.deepEqual(messages(again).map((f) => f.message.id), missed);
    again.close();
  });

  it('traffic during the reconnect (~200 msg/s): no gap and no duplicate, checked by id against sync', async () => {
    const bob = await newBob();
    const gw = s.gateways[0]!.url;
    const first = await TestClient.connect(gw, bob.token);
    const traffic = keepSending(s.chat!.url, alice, bob, 200);
    await first.waitForCount('new_message', 40, 20_000);
    first.close();
    const since = lastCursor(first);
    await sleep(150); // messages keep arriving while Bob is away
    const again = await TestClient.connect(gw, bob.token, { since });
    await again.next((f) => f.type === 'synced', 20_000);
    await sleep(1500); // and during and after the switch to live
    await traffic.stop();
    const expected = await syncIds(s.chat!.url, bob, since);
    await again.waitForCount('new_message', expected.length, 20_000);
    await sleep(300);
    const stream = messages(again).map((f) => f.message.id);
    assertExactlyOnceInOrder(stream, expected, 'reconnected stream');
    const replayed = messages(again).filter((f) => f.replayed).length;
    console.log(`traffic test: ${traffic.accepted.length} accepted of ${traffic.attempted} in the run; ${replayed} replayed + ${stream.length - replayed} live after the reconnect`);
    assert.ok(stream.length - replayed > 0, 'some arrived live after the switch');
    again.close();
  });

  it('bad cursors get invalid_cursor and the connection survives', async () => {
    const bob = await newBob();
    const other = await newBob();
    const gw = s.gateways[0]!.url;
    // A real cursor of another user.
    const probe = await TestClient.connect(gw, other.token);
    const m = await send(s.chat!.url, alice, other.username, 'for other');
    await probe.next((f) => f.type === 'new_message' && f.message.id === m.id);
    const foreign = lastCursor(probe);
    probe.close();

    for (const since of [foreign, 'garbage', 'YzE6eDox']) {
      const c = await TestClient.connect(gw, bob.token, { since });
      const err = await c.next((f) => f.type === 'error');
      assert.equal(err.error.code, 'invalid_cursor', since);
      c.send({ type: 'ping' });
      await c.next((f) => f.type === 'pong');
      const liveOne = await send(s.chat!.url, alice, bob.username, 'still delivered');
      await c.next((f) => f.type === 'new_message' && f.message.id === liveOne.id);
      assert.ok(c.isOpen);
      c.close();
    }
    // Through the first-frame resume as well.
    const c = await TestClient.connect(gw, bob.token);
    c.send({ type: 'resume', since: foreign });
    assert.equal((await c.next((f) => f.type === 'error')).error.code, 'invalid_cursor');
    c.send({ type: 'ping' });
    await c.next((f) => f.type === 'pong');
    c.close();
  });

  it('past REPLAY_LIMIT the client gets resync_required', async () => {
    const small = await s.start('gateway', { env: { REPLAY_LIMIT: '20' } });
    const bob = await newBob();
    const first = await TestClient.connect(small.url, bob.token);
    const seed = await send(s.chat!.url, alice, bob.username, 'seed');
    await first.next((f) => f.type === 'new_message' && f.message.id === seed.id);
    const since = lastCursor(first);
    first.close();
    await Promise.all(Array.from({ length: 21 }, (_, i) => send(s.chat!.url, alice, bob.username, `overflow ${i}`)));
    const again = await TestClient.connect(small.url, bob.token, { since });
    await again.next((f) => f.type === 'resync_required');
    // Counted up to the resync_required frame: live frames may follow it at once (delivery goes
    // on), and the client may already have read them by the time this line runs.
    const resyncAt = again.frames.findIndex((f) => f.type === 'resync_required');
    assert.equal(again.frames.slice(0, resyncAt).filter((f) => f.type === 'new_message').length, 0, 'no partial replay');
    assert.equal(again.ofType('synced').length, 0);
    const liveOne = await send(s.chat!.url, alice, bob.username, 'after resync');
    await again.next((f) => f.type === 'new_message' && f.message.id === liveOne.id);
    again.close();
    // Exactly REPLAY_LIMIT missed messages are still replayed.
    await Promise.all(Array.from({ length: 20 }, (_, i) => send(s.chat!.url, alice, bob.username, `at limit ${i}`)));
    const atLimit = await TestClient.connect(small.url, bob.token, { since: lastCursor(again) });
    await atLimit.next((f) => f.type === 'synced');
    assert.equal(messages(atLimit).length, 20);
    atLimit.close();
    await small.stop();
  });

  it('gateway SIGKILLed while Alice sends: Bob resumes on the other gateway and has every accepted message exactly once', async () => {
    const bob = await newBob();
    const [doomed, survivor] = s.gateways as [typeof s.gateways[0], typeof s.gateways[0]];
    const first = await TestClient.connect(doomed.url, bob.token);
    const start = await send(s.chat!.url, alice, bob.username, 'start');
    await first.next((f) => f.type === 'new_message' && f.message.id === start.id);
    const traffic = keepSending(s.chat!.url, alice, bob, 100);
    await first.waitForCount('new_message', 30, 20_000);
    await doomed.stop('SIGKILL');
    await first.waitClosed();
    const since = lastCursor(first);
    await sleep(300); // Alice goes on while Bob is away
    const again = await TestClient.connect(survivor.url, bob.token, { since });
    await again.next((f) => f.type === 'synced', 20_000);
    await sleep(500);
    await traffic.stop();
    await sleep(500);
    const stream = [...messages(first), ...messages(again)].map((f) => f.message.id);
    const fromStart = stream.slice(stream.indexOf(start.id) + 1);
    for (const id of traffic.accepted) assert.equal(fromStart.filter((x) => x === id).length, 1, `message ${id} exactly once`);
    assertExactlyOnceInOrder(messages(again).map((f) => f.message.id), await syncIds(s.chat!.url, bob, since), 'after the resume');
    console.log(`gateway kill: ${traffic.accepted.length} accepted; ${messages(first).length} before the kill, ${messages(again).length} after (${messages(again).filter((f) => f.replayed).length} replayed)`);
    again.close();
  });
});
