/**
 * Group messages through every service, on two gateways and two Chat processes: each message
 * reaches every socket of every member once, in each member's own order, stamped with their own
 * cursor; a removed member gets nothing sent after the removal's 200; a member who was away
 * gets exactly what they missed on resume. (The API's contract lines are in
 * services/chat/test/groups.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeCursor } from '@chat/common/contracts';
import { request, sleep, startStack, TestClient, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { assertExactlyOnceInOrder, syncIds } from './support.ts';

describe('group conversations across gateways and Chat replicas', () => {
  let s: Stack;
  let chatB: RunningService;

  before(async () => {
    s = await startStack({ gateways: 2 });
    chatB = await s.start('chat');
  });
  after(() => s?.stop());

  type Users = [TestUser, TestUser, TestUser, TestUser, ...TestUser[]];
  const users = async (n: number) => (await Promise.all(Array.from({ length: n }, () => s.user('grp')))) as Users;

  async function createGroup(owner: TestUser, others: TestUser[]): Promise<string> {
    const res = await request(`${s.chat.url}/conversations`, { token: owner.token, body: { name: 'g', members: others.map((u) => u.username) } });
    assert.equal(res.status, 201, res.text);
    return res.body.conversation.id as string;
  }

  async function sendTo(chatUrl: string, user: TestUser, conversationId: string, text: string): Promise<string> {
    const res = await request(`${chatUrl}/chat/send`, { token: user.token, body: { conversationId, text } });
    assert.equal(res.status, 201, res.text);
    return res.body.message.id as string;
  }

  const groupFrames = (c: TestClient, conversationId: string) => c.ofType('new_message').filter((f) => f.message.conversationId === conversationId);

  it('a group of 5 with 2 devices each on two gateways: every message reaches all 10 sockets, each cursor advancing by one', async () => {
    const members = await users(5);
    const id = await createGroup(members[0]!, members.slice(1));
    const sockets = await Promise.all(members.flatMap((u) => [TestClient.connect(s.gateways[0]!.url, u.token), TestClient.connect(s.gateways[1]!.url, u.token)]));
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) sent.push(await sendTo(i % 2 ? s.chat.url : chatB.url, members[i % 5]!, id, `m${i}`));
    await Promise.all(sockets.map((c) => waitFor('all 20 live', () => groupFrames(c, id).length >= 20, 15_000)));
    await sleep(200);
    sockets.forEach((c, i) => {
      // The group's `created` message may also arrive live, if its event came after the socket connected.
      const frames = groupFrames(c, id).filter((f) => f.message.kind !== 'system');
      assert.deepEqual(frames.map((f) => f.message.id), sent, `socket ${i}: every message once, in order (its sender's own devices included)`);
      const seqs = frames.map((f) => decodeCursor(f.cursor)!.seq);
      assert.ok(frames.every((f) => decodeCursor(f.cursor)!.userId === members[Math.floor(i / 2)]!.id), 'their own cursor');
      seqs.forEach((seq, k) => k > 0 && assert.equal(seq, seqs[k - 1]! + 1, `socket ${i}: the cursor advances one message at a time`));
    });
    for (const c of sockets) c.close();
  });

  it('3 members sending concurrently through two Chat processes: each sync stream holds every message once, in the order of their live frames', async () => {
    const members = await users(4);
    const id = await createGroup(members[0]!, members.slice(1));
    const sockets = await Promise.all(members.map((u, i) => TestClient.connect(s.gateways[i % 2]!.url, u.token)));
    const syncStart = await Promise.all(members.map(async (u) => (await request(`${s.chat.url}/chat/sync?limit=500`, { token: u.token })).body.cursor as string));
    const senders = members.slice(0, 3);
    const sent = (
      await Promise.all(senders.map(async (u, k) => {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push(await sendTo(i % 2 ? s.chat.url : chatB.url, u, id, `${k}:${i}`));
        return ids;
      }))
    ).flat();
    await Promise.all(sockets.map((c) => waitFor('all live', () => groupFrames(c, id).length >= sent.length, 20_000)));
    await sleep(200);
    for (const [i, u] of members.entries()) {
      const stream = await syncIds(s.chat.url, u, syncStart[i]!);
      assert.equal(stream.length, sent.length);
      assert.deepEqual(new Set(stream), new Set(sent), `${u.username}: every message`);
      // The group's `created` message may reach a socket live after the socket connected, yet be
      // behind the sync start: compare what came after that start.
      const startSeq = decodeCursor(syncStart[i])!.seq;
      const live = groupFrames(sockets[i]!, id).filter((f) => decodeCursor(f.cursor)!.seq > startSeq);
      assertExactlyOnceInOrder(live.map((f) => f.message.id), stream, `${u.username}: live frames against sync`);
    }
    for (const c of sockets) c.close();
  });

  it('a member removed while messages flow gets nothing sent after the removal answered, by any path', async () => {
    const [owner, talker, victim] = await users(3);
    const id = await createGroup(owner, [talker, victim]);
    const live = await TestClient.connect(s.gateways[1]!.url, victim.token);
    const sentAfterRemoval: string[] = [];
    let removedAt = Number.POSITIVE_INFINITY;
    let running = true;
    const traffic = Promise.all([owner, talker].map(async (u, k) => {
      for (let i = 0; running; i++) {
        const startedAt = Date.now();
        const msgId = await sendTo(k ? chatB.url : s.chat.url, u, id, `flow ${k}:${i}`);
        if (startedAt > removedAt) sentAfterRemoval.push(msgId);
        await sleep(10);
      }
    }));
    await waitFor('flowing', () => groupFrames(live, id).length >= 10, 10_000);
    const removal = await request(`${s.chat.url}/conversations/${id}/members/${victim.username}`, { method: 'DELETE', token: owner.token });
    assert.equal(removal.status, 200, removal.text);
    removedAt = Date.now();
    await sleep(1_500);
    running = false;
    await traffic;
    await sleep(500);
    assert.ok(sentAfterRemoval.length >= 10, `traffic went on after the removal (${sentAfterRemoval.length})`);
    const after = new Set(sentAfterRemoval);
    const liveIds = groupFrames(live, id).map((f) => f.message.id);
    assert.deepEqual(liveIds.filter((m) => after.has(m)), [], 'no live frame');
    const synced = await syncIds(s.chat.url, victim, '');
    assert.deepEqual(synced.filter((m) => after.has(m)), [], 'nothing in sync');
    assert.equal((await request(`${s.chat.url}/chat/history?conversation=${id}`, { token: victim.token })).status, 404, 'no history');
    const resumed = await TestClient.connect(s.gateways[0]!.url, victim.token, { since: groupFrames(live, id)[0].cursor });
    await resumed.next((f) => f.type === 'synced');
    assert.deepEqual(resumed.ofType('new_message').filter((f) => after.has(f.message.id)), [], 'nothing on resume');
    live.close();
    resumed.close();
  });

  it('a member who was away, while 30 messages and a membership change happened, resumes with exactly those', async () => {
    const [owner, away, other, newcomer] = await users(4);
    const id = await createGroup(owner, [away, other]);
    const first = await TestClient.connect(s.gateways[0]!.url, away.token);
    const seed = await sendTo(s.chat.url, other, id, 'seed');
    const seen = await first.next((f) => f.type === 'new_message' && f.message.id === seed);
    first.close();
    await first.waitClosed();
    const missed: string[] = [];
    for (let i = 0; i < 15; i++) missed.push(await sendTo(i % 2 ? chatB.url : s.chat.url, i % 2 ? owner : other, id, `while away ${i}`));
    const added = await request(`${s.chat.url}/conversations/${id}/members`, { token: owner.token, body: { members: [newcomer.username] } });
    assert.equal(added.status, 200, added.text);
    for (let i = 15; i < 30; i++) missed.push(await sendTo(i % 2 ? chatB.url : s.chat.url, i % 2 ? owner : newcomer, id, `while away ${i}`));
    const again = await TestClient.connect(s.gateways[1]!.url, away.token, { since: seen.cursor });
    await again.next((f) => f.type === 'synced');
    const replayed = again.ofType('new_message');
    assert.equal(replayed.length, 31, '30 messages and one system message');
    assert.equal(replayed[15].message.event, 'member_added');
    assert.deepEqual(replayed[15].message.users, [{ id: newcomer.id, username: newcomer.username }]);
    assert.deepEqual(replayed.filter((f) => f.message.kind !== 'system').map((f) => f.message.id), missed);
    assert.ok(replayed.every((f) => f.replayed === true));
    again.close();
  });
});
