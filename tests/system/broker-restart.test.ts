/**
 * RabbitMQ restarted under a connected gateway while Alice keeps sending (done once, for both
 * issues: a broker restart is slow and disturbs every test on the machine).
 *
 * - The gateway re-declares its queue and resumes consuming by itself; readiness is false
 *   meanwhile; new messages reach the socket that stayed open.
 * - Catch-up: after reconnecting with his last cursor, Bob has every message Alice got a 201
 *   for exactly once. Events lost in the broker are recovered by the replay (and by the
 *   gateway's own check of open sockets after the outage); the outbox publishes the rest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { canControl, restartRabbit } from '@chat/infra';
import { registerAndLogin, sleep, startStack, TestClient, waitFor, type Stack, type TestUser } from '@chat/testkit';
import { keepSending, readyz, send } from './support.ts';

describe('gateway: broker restart', async () => {
  const controllable = await canControl('rabbit');
  let s: Stack;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    if (!controllable) return;
    // Alice sends 100 messages a second for as long as RabbitMQ takes to come back, which on a
    // loaded machine can pass 10 s, i.e. more than the default REPLAY_LIMIT (1000) behind. The
    // gateway then answers resync_required (the client is to page history; resume.integration
    // covers that), which this client does not do. What is tested here is the replay itself.
    s = await startStack({ serviceEnv: { gateway: { REPLAY_LIMIT: '100000' } } });
    [alice, bob] = await Promise.all([registerAndLogin(s.auth.url), registerAndLogin(s.auth.url)]);
  });
  after(() => s?.stop());

  it('resumes by itself, and a reconnect with the last cursor yields every accepted message exactly once', { skip: controllable ? false : 'RabbitMQ came from AMQP_URL; this run cannot restart it' }, async () => {
    const gw = s.gateways[0]!;
    const bobClient = await TestClient.connect(gw.url, bob.token);
    const start = await send(s.chat!.url, alice, bob.username, 'before the restart');
    await bobClient.next((f) => f.type === 'new_message' && f.message.id === start.id);

    const readiness: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        readiness.push((await readyz(gw.url).catch(() => ({ status: 0 }))).status);
        await sleep(100);
      }
    })();
    const traffic = keepSending(s.chat!.url, alice, bob, 100);
    await sleep(500);

    const t0 = Date.now();
    await restartRabbit();
    const restartMs = Date.now() - t0;
    await waitFor('the gateway to be ready again', async () => (await readyz(gw.url)).status === 200, 30_000, 100);
    const recoveredMs = Date.now() - t0;
    await sleep(1000);
    await traffic.stop();
    watching = false;
    await watcher;

    // The gateway itself: not restarted, not ready during the outage, sockets kept.
    assert.equal(gw.proc.exitCode, null, 'the gateway process was not restarted');
    assert.ok(readiness.includes(503), 'readiness was false during the outage');
    assert.equal(readiness.at(-1), 200);
    assert.ok(bobClient.isOpen, 'client sockets survive a broker restart');
    const liveAfter = await send(s.chat!.url, alice, bob.username, 'after the restart');
    const frame = await bobClient.next((f) => f.type === 'new_message' && f.message.id === liveAfter.id, 20_000);
    assert.equal(frame.replayed, undefined, 'delivered live again');

    // Catch-up: Bob's client reconnects with the last cursor it processed.
    bobClient.close();
    await bobClient.waitClosed();
    const before = bobClient.ofType('new_message');
    const again = await TestClient.connect(gw.url, bob.token, { since: before.at(-1).cursor });
    await again.next((f) => f.type === 'synced', 20_000);
    const stream = [...before, ...again.ofType('new_message')].map((f) => f.message.id);
    const fromStart = stream.slice(stream.indexOf(start.id) + 1);
    assert.deepEqual(bobClient.ofType('resync_required'), [], 'the outage was replayed, not answered with resync_required');
    for (const id of [...traffic.accepted, liveAfter.id]) assert.equal(fromStart.filter((x) => x === id).length, 1, `message ${id} exactly once`);
    const seen = new Set<string>();
    assert.deepEqual(fromStart.filter((id) => (seen.has(id) ? true : (seen.add(id), false))), [], 'no duplicates');
    const filled = before.filter((f) => f.replayed).length;
    console.log(
      `broker restart: ${restartMs} ms, gateway ready again after ${recoveredMs} ms; ${traffic.accepted.length} accepted (${traffic.failures} refused); ` +
        `the open socket got ${before.length} (${filled} filled from Chat by the gateway), the reconnect ${again.ofType('new_message').length}`,
    );
    again.close();
  });
});
