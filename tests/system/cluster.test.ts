/**
 * Several gateway processes behind one broker: each has its own queue on the fanout exchange,
 * so a user's devices on different gateways all receive, and losing one gateway does not
 * disturb another. Also the SIGTERM drain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeCursor } from '@chat/common/contracts';
import { registerAndLogin, sleep, startStack, TestClient, type Stack, type TestUser } from '@chat/testkit';
import { readyz, send } from './support.ts';

describe('gateway: two gateways and the drain', () => {
  let s: Stack;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    s = await startStack({ gateways: 2, serviceEnv: { gateway: { SHUTDOWN_DELAY_MS: '400', SHUTDOWN_GRACE_MS: '6000' } } });
    [alice, bob] = await Promise.all([registerAndLogin(s.auth.url), registerAndLogin(s.auth.url)]);
  });
  after(() => s?.stop());

  it('gives each gateway its own queue named after POD_NAME', () => {
    const queues = s.gateways.map((g) => /"queue":"(gateway\.test-gw\.[0-9a-f]{8})"/.exec(g.output())?.[1]);
    assert.ok(queues[0] && queues[1], 'both log their queue');
    assert.notEqual(queues[0], queues[1]);
  });

  it('recipient on gateway B and the sender\'s other device on gateway A both receive; A going away leaves B alone; a restarted A works', async () => {
    const [a, b] = s.gateways as [typeof s.gateways[0], typeof s.gateways[0]];
    const bobOnB = await TestClient.connect(b.url, bob.token);
    const aliceOnA = await TestClient.connect(a.url, alice.token);
    const first = await send(s.chat!.url, alice, bob.username, 'across gateways');
    await bobOnB.next((f) => f.type === 'new_message' && f.message.id === first.id);
    await aliceOnA.next((f) => f.type === 'new_message' && f.message.id === first.id);

    // Kill A outright: B and its sockets carry on.
    assert.equal(await a.stop('SIGKILL'), 'SIGKILL');
    assert.equal((await aliceOnA.waitClosed()).code, 1006);
    const second = await send(s.chat!.url, alice, bob.username, 'A is gone');
    await bobOnB.next((f) => f.type === 'new_message' && f.message.id === second.id);
    assert.ok(bobOnB.isOpen);
    assert.equal((await readyz(b.url)).status, 200);

    // A restarted (on the same port) gets a fresh queue and delivers again.
    const restarted = await s.start('gateway', { port: a.port });
    const aliceAgain = await TestClient.connect(restarted.url, alice.token);
    const third = await send(s.chat!.url, bob, alice.username, 'A is back');
    await aliceAgain.next((f) => f.type === 'new_message' && f.message.id === third.id);
    await bobOnB.next((f) => f.type === 'new_message' && f.message.id === third.id);
    for (const c of [bobOnB, aliceAgain]) c.close();
  });

  it('drains on SIGTERM: readiness fails first, new upgrades are refused, sockets get 1012, exit 0 in time, and what was delivered has no gap', async () => {
    const gw = s.gateways[1]!;
    const bobPhone = await TestClient.connect(gw.url, bob.token);
    const bobLaptop = await TestClient.connect(gw.url, bob.token);
    const aliceDesk = await TestClient.connect(gw.url, alice.token);

    // Alice keeps sending while the gateway drains.
    let sending = true;
    const sent: string[] = [];
    const sender = (async () => {
      while (sending) {
        try {
          sent.push((await send(s.chat!.url, alice, bob.username, `during drain ${sent.length}`)).id);
        } catch {
          await sleep(20);
        }
      }
    })();
    await bobPhone.waitForCount('new_message', 10);

    const t0 = Date.now();
    gw.proc.kill('SIGTERM');
    // Readiness turns false while the listener still answers (SHUTDOWN_DELAY_MS).
    let notReady: { status: number; body: any } | undefined;
    while (Date.now() - t0 < 2000) {
      const r = await readyz(gw.url).catch(() => undefined);
      if (!r) break; // the listener closed before we saw a 503: fails below
      if (r.status === 503) {
        notReady = r;
        break;
      }
      await sleep(10);
    }
    assert.equal(notReady?.status, 503, 'readiness failed while the listener still answered');
    assert.equal(notReady.body.error.details.checks.draining, false);

    const closes = await Promise.all([bobPhone, bobLaptop, aliceDesk].map((c) => c.waitClosed(8_000)));
    for (const c of closes) assert.deepEqual(c, { code: 1012, reason: 'service_restart' });
    const exit = await gw.exited;
    const tookMs = Date.now() - t0;
    sending = false;
    await sender;
    assert.equal(exit, 0);
    assert.ok(tookMs < 6000, `drain took ${tookMs} ms`);
    await assert.rejects(TestClient.connect(gw.url, bob.token), 'the listener is closed');

    // Both of Bob's devices saw the same messages, in stored order, without a gap.
    for (const device of [bobPhone, bobLaptop]) {
      const frames = device.ofType('new_message');
      const seqs = frames.map((f) => decodeCursor(f.cursor)!.seq);
      seqs.forEach((seq, i) => i > 0 && assert.equal(seq, seqs[i - 1]! + 1, 'contiguous'));
      assert.deepEqual(frames.map((f) => f.message.id), sent.slice(0, frames.length));
    }
    assert.deepEqual(bobPhone.ofType('new_message').map((f) => f.message.id), bobLaptop.ofType('new_message').map((f) => f.message.id));
    console.log(`drain: ${tookMs} ms; Bob got ${bobPhone.ofType('new_message').length} of ${sent.length} messages sent meanwhile`);
  });
});
