/**
 * Read receipts and unread counts against the real Auth and Chat processes: POST
 * /conversations/:id/read, the list's `unread`/`readUpTo`/`peerReadUpTo`, GET
 * /conversations/:id/receipts, and "sending reads the conversation". (The live read signal is
 * in read-marks.test.ts, where the publisher can be watched.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, startStack, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { directConversationId } from '../src/conversation-id.js';
import { assertEnvelope, send } from './support.js';

const RECEIPTS_MAX_MEMBERS = 3;

let stack: Stack;
let chat: RunningService;

before(async () => {
  stack = await startStack({
    services: ['auth'],
    env: { LOG_LEVEL: 'warn' },
    serviceEnv: { chat: { RECEIPTS_MAX_MEMBERS: String(RECEIPTS_MAX_MEMBERS), CONVERSATION_ACTIVITY_INTERVAL_MS: '50' } },
  });
  chat = await stack.start('chat');
  await waitFor('chat ready', async () => (await request(`${chat.url}/readyz`)).status === 200, 20_000, 100);
});
after(async () => {
  await stack?.stop();
});

type Users = [TestUser, TestUser, TestUser, TestUser, ...TestUser[]];
const users = async (n: number) => (await Promise.all(Array.from({ length: n }, () => stack.user('R')))) as Users;
const call = (user: TestUser, method: string, path: string, body?: unknown) => request(`${chat.url}${path}`, { method, token: user.token, ...(body === undefined ? {} : { body }) });
const read = (user: TestUser, conversationId: string, messageId: unknown) => call(user, 'POST', `/conversations/${encodeURIComponent(conversationId)}/read`, { messageId });
const receipts = (user: TestUser, conversationId: string) => call(user, 'GET', `/conversations/${encodeURIComponent(conversationId)}/receipts`);
const dmId = (a: TestUser, b: TestUser) => directConversationId(a.id, b.id);

/** Sends `texts` one after the other; their message ids, in order. */
async function sendAll(from: TestUser, where: { to: string } | { conversationId: string }, texts: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    const res = await send(chat.url, from, { ...where, text });
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.message.id);
  }
  return ids;
}

async function group(owner: TestUser, others: TestUser[]): Promise<string> {
  const res = await call(owner, 'POST', '/conversations', { name: 'readers', members: others.map((u) => u.username) });
  assert.equal(res.status, 201, res.text);
  return res.body.conversation.id;
}

interface Entry { id: string; unread: number; readUpTo: string | null; peerReadUpTo?: string | null; lastMessage: { id: string } | null }

/** The caller's list entry of a conversation once `ready` holds for it (the list is written off the send path). */
async function entry(user: TestUser, conversationId: string, ready: (e: Entry) => boolean = () => true): Promise<Entry> {
  let last: Entry | undefined;
  try {
    return await waitFor(`${user.username}'s entry of ${conversationId}`, async () => {
      const res = await call(user, 'GET', '/conversations');
      assert.equal(res.status, 200, res.text);
      last = (res.body.conversations as Entry[]).find((c) => c.id === conversationId);
      return last && ready(last) ? last : undefined;
    }, 10_000);
  } catch (err) {
    assert.fail(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

/** Once the list shows `lastId` as the newest message (and so the sender's mark, written before it). */
const settled = (lastId: string) => (e: Entry) => e.lastMessage?.id === lastId;

describe('POST /conversations/:id/read', () => {
  test('the mark only moves forward: an older message, or the same one again, answers the current mark and changes nothing', async () => {
    const [alice, bob] = await users(2);
    const ids = await sendAll(alice, { to: bob.username }, ['m1', 'm2', 'm3', 'm4', 'm5']);
    const id = dmId(alice, bob);
    const first = await read(bob, id, ids[2]);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body, { readUpTo: ids[2], unread: 2 });
    assert.deepEqual((await read(bob, id, ids[0])).body, { readUpTo: ids[2], unread: 2 }, 'an older message');
    assert.deepEqual((await read(bob, id, ids[2])).body, { readUpTo: ids[2], unread: 2 }, 'the same message again');
    assert.deepEqual((await read(bob, id, ids[4]!.toUpperCase())).body, { readUpTo: ids[4], unread: 0 }, 'letter case of the id does not matter');
    assert.deepEqual((await read(bob, id, ids[3])).body, { readUpTo: ids[4], unread: 0 });
    const marks = await (await stack.db('chat')).collection('read_marks').find({ conversationId: id, userId: bob.id }).toArray();
    assert.deepEqual(marks.map((m) => m.messageId), [ids[4]], 'one mark per member: lower ones are deleted');
  });

  test('two devices reading concurrently (20 reads, shuffled ids) end at the highest, and the unread count is right', async () => {
    const [alice, bob] = await users(2);
    const id = dmId(alice, bob);
    const ids = await sendAll(alice, { to: bob.username }, Array.from({ length: 20 }, (_, i) => `n${i}`));
    const second = { ...bob, token: (await request(`${stack.auth.url}/login`, { body: { username: bob.username, password: bob.password } })).body.token as string };
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    const answers = await Promise.all(shuffled.map((messageId, i) => read(i % 2 ? bob : second, id, messageId)));
    for (const res of answers) assert.equal(res.status, 200, res.text);
    assert.ok(answers.some((res) => res.body.readUpTo === ids[19] && res.body.unread === 0), 'the read of the newest answers it');
    const more = await sendAll(alice, { to: bob.username }, ['after 1', 'after 2', 'after 3']);
    const seen = await entry(bob, id, settled(more[2]!));
    assert.equal(seen.readUpTo, ids[19]);
    assert.equal(seen.unread, 3);
    assert.deepEqual((await read(second, id, ids[0])).body, { readUpTo: ids[19], unread: 3 });
  });

  test('400 invalid_request (invalid_json for a body that is not an object): a malformed id, wrong types, a message of another conversation, an unknown message; types are checked before membership', async () => {
    const [alice, bob, carol] = await users(3);
    const [mine] = await sendAll(alice, { to: bob.username }, ['ours']);
    const [theirs] = await sendAll(alice, { to: carol.username }, ['not yours']);
    const id = dmId(alice, bob);
    for (const messageId of [undefined, null, 7, '', 'xyz', `${mine}0`, mine!.slice(1), { $ne: null }, [mine]]) {
      assertEnvelope(await read(bob, id, messageId), 400, 'invalid_request');
    }
    assertEnvelope(await call(bob, 'POST', `/conversations/${id}/read`, ['not an object']), 400, 'invalid_json');
    assertEnvelope(await read(alice, id, theirs), 400, 'invalid_request');
    assertEnvelope(await read(alice, id, '0123456789abcdef01234567'), 400, 'invalid_request');
    assertEnvelope(await read(carol, id, 7), 400, 'invalid_request');
    assert.equal((await read(bob, id, mine)).status, 200, 'unknown fields are ignored, like everywhere');
  });

  test('404 conversation_not_found for a non-member and an unknown or malformed conversation, the same answer', async () => {
    const [alice, bob, outsider, other] = await users(4);
    const [dm] = await sendAll(alice, { to: bob.username }, ['private']);
    const g = await group(alice, [bob]);
    const [inGroup] = await sendAll(bob, { conversationId: g }, ['group only']);
    const outside = await read(outsider, dmId(alice, bob), dm);
    assertEnvelope(outside, 404, 'conversation_not_found');
    assertEnvelope(await read(outsider, g, inGroup), 404, 'conversation_not_found');
    const unknown = await read(outsider, 'g:0123456789abcdef01234567', inGroup);
    assertEnvelope(unknown, 404, 'conversation_not_found');
    assert.equal(outside.text, unknown.text, 'existence is not revealed');
    for (const id of ['nonsense', 'g:xyz', dmId(other, outsider).replace('dm:', 'dm:x')]) assertEnvelope(await read(alice, id, dm), 404, 'conversation_not_found');
    for (const [user, id] of [[outsider, dmId(alice, bob)], [outsider, g], [alice, 'g:0123456789abcdef01234567'], [alice, 'nonsense']] as const) {
      assertEnvelope(await receipts(user, id), 404, 'conversation_not_found');
    }
    assertEnvelope(await receipts(outsider, dmId(outsider, other)), 404, 'conversation_not_found');
  });
});

describe('unread counts and marks in GET /conversations', () => {
  test('1:1: unread counts what the peer sent after the mark; sending reads the conversation; peerReadUpTo is the other mark', async () => {
    const [alice, bob] = await users(2);
    const id = dmId(alice, bob);
    const ids = await sendAll(alice, { to: bob.username }, ['a1', 'a2', 'a3']);
    const bobs = await entry(bob, id, settled(ids[2]!));
    assert.deepEqual([bobs.unread, bobs.readUpTo, bobs.peerReadUpTo], [3, null, ids[2]], "nothing read yet; alice's own message moved her mark");
    const alices = await entry(alice, id, settled(ids[2]!));
    assert.deepEqual([alices.unread, alices.readUpTo, alices.peerReadUpTo], [0, ids[2], null]);

    assert.deepEqual((await read(bob, id, ids[0])).body, { readUpTo: ids[0], unread: 2 });
    assert.equal((await entry(alice, id)).peerReadUpTo, ids[0], 'alice sees how far bob read');

    const [reply] = await sendAll(bob, { to: alice.username }, ['b1']);
    const afterReply = await entry(bob, id, settled(reply!));
    assert.deepEqual([afterReply.unread, afterReply.readUpTo], [0, reply], "bob's reply read everything before it");
    const alicesNow = await entry(alice, id, settled(reply!));
    assert.deepEqual([alicesNow.unread, alicesNow.readUpTo, alicesNow.peerReadUpTo], [1, ids[2], reply]);
    assert.deepEqual((await read(alice, id, reply)).body, { readUpTo: reply, unread: 0 });
  });

  test('group: each member counts from their own mark; a member added later counts from the message that added them, and cannot mark before it', async () => {
    const [owner, member, late] = await users(3);
    const g = await group(owner, [member]); // position 1: created, by the owner
    const early = await sendAll(member, { conversationId: g }, ['x2', 'x3']);
    assert.equal((await entry(owner, g, settled(early[1]!))).unread, 2);
    assert.equal((await entry(member, g, settled(early[1]!))).unread, 0, 'the member sent the newest');

    assert.equal((await call(owner, 'POST', `/conversations/${g}/members`, { members: [late.username] })).status, 200); // position 4
    const [welcome] = await sendAll(owner, { conversationId: g }, ['welcome']); // position 5
    const lates = await entry(late, g, settled(welcome!));
    assert.deepEqual([lates.unread, lates.readUpTo, 'peerReadUpTo' in lates], [2, null, false], 'member_added and welcome, nothing before');
    assert.equal((await entry(member, g, settled(welcome!))).unread, 2);
    assert.equal((await entry(owner, g, settled(welcome!))).unread, 0);

    assertEnvelope(await read(late, g, early[0]), 400, 'invalid_request');
    assert.deepEqual((await read(late, g, welcome)).body, { readUpTo: welcome, unread: 0 });
    assert.deepEqual((await read(member, g, early[0])).body, { readUpTo: early[1], unread: 2 }, 'an older message than the own mark');
  });
});

describe('GET /conversations/:id/receipts', () => {
  test("1:1: both users' marks and when they were set; readLatestCount counts those at the newest message", async () => {
    const [alice, bob] = await users(2);
    const id = dmId(alice, bob);
    const ids = await sendAll(alice, { to: bob.username }, ['r1', 'r2']);
    await read(bob, id, ids[0]);
    await entry(alice, id, settled(ids[1]!)); // alice's own mark is written off the send path
    const res = await receipts(bob, id);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['conversationId', 'memberCount', 'readLatestCount', 'receipts']);
    assert.equal(res.body.conversationId, id);
    assert.equal(res.body.memberCount, 2);
    assert.equal(res.body.readLatestCount, 1);
    const byUser = new Map(res.body.receipts.map((r: { user: { id: string } }) => [r.user.id, r]));
    assert.deepEqual((byUser.get(alice.id) as { user: unknown; readUpTo: string }).user, { id: alice.id, username: alice.username });
    assert.equal((byUser.get(alice.id) as { readUpTo: string }).readUpTo, ids[1]);
    assert.equal((byUser.get(bob.id) as { readUpTo: string }).readUpTo, ids[0]);
    assert.match((byUser.get(bob.id) as { at: string }).at, /^\d{4}-\d\d-\d\dT.*Z$/);
    assert.deepEqual((await receipts(alice, id)).body, res.body, 'the same for both users');
  });

  test(`a group: every member's mark up to RECEIPTS_MAX_MEMBERS (${RECEIPTS_MAX_MEMBERS}), null for none; above it, counts only`, async () => {
    const [owner, a, b, c] = await users(4);
    const small = await group(owner, [a, b]);
    const created = (await call(owner, 'GET', `/chat/history?conversation=${small}`)).body.messages[0].id as string;
    const [last] = await sendAll(a, { conversationId: small }, ['hello']);
    await entry(a, small, settled(last!));
    const marks = async () => {
      const res = await receipts(owner, small);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.memberCount, 3);
      return { count: res.body.readLatestCount, marks: res.body.receipts.map((r: { user: { username: string }; readUpTo: string | null; at: string | null }) => [r.user.username, r.readUpTo, r.at === null]) };
    };
    assert.deepEqual(await marks(), { count: 1, marks: [[owner.username, created, false], [a.username, last, false], [b.username, null, true]] }, 'in the order of the members');
    await read(b, small, last);
    assert.deepEqual(await marks(), { count: 2, marks: [[owner.username, created, false], [a.username, last, false], [b.username, last, false]] });

    const big = await group(owner, [a, b, c]);
    const [newest] = await sendAll(a, { conversationId: big }, ['to many']);
    await entry(a, big, settled(newest!));
    await read(c, big, newest);
    const counts = await receipts(b, big);
    assert.equal(counts.status, 200, counts.text);
    assert.deepEqual(counts.body, { conversationId: big, memberCount: 4, readLatestCount: 2, receipts: null });
    assert.deepEqual((await read(b, big, newest)).body, { readUpTo: newest, unread: 0 }, 'marks are still stored above the limit');
    assert.equal((await receipts(b, big)).body.readLatestCount, 3);
  });
});
