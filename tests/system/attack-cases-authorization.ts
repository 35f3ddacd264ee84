/**
 * No user can read, sync, resume from, mark or send into anything that is not theirs, whatever
 * id or cursor they present. Mallory is in nothing of Alice's; Carol was removed from one of
 * Alice's groups; Bob is a plain member of Alice's group. Every conversation they may not see
 * answers the same 404 as one that does not exist; a role that does not allow a change is a 403.
 */
import assert from 'node:assert/strict';
import { request, sleep, TestClient } from '@chat/testkit';
import { outcomeOf, type AttackCase, type Fixtures, type Outcome } from './attack-suite.ts';

const notFound = { status: 404, code: 'conversation_not_found' };
const forbidden = { status: 403, code: 'forbidden' };
const invalid = { status: 400, code: 'invalid_request' };

type Who = 'mallory' | 'carol' | 'bob';
type Target = 'dm' | 'group' | 'formerGroup';

function http(name: string, who: Who, expect: AttackCase['expect'], call: (f: Fixtures) => { method?: string; path: string; body?: unknown }, check?: AttackCase['check']): AttackCase {
  return {
    area: 'authorization',
    name: `${who}: ${name}`,
    service: 'chat',
    expect,
    check,
    async send(f) {
      const { method, path, body } = call(f);
      return outcomeOf(await request(`${f.stack.chat.url}${path}`, { method: method ?? (body === undefined ? 'GET' : 'POST'), body, token: f[who].token }));
    },
  };
}

/** Every conversation route, on a conversation `who` is not in. */
function outsider(who: Who, target: Target): AttackCase[] {
  const id = (f: Fixtures) => f[target].id;
  const msg = (f: Fixtures) => f[target].messageId;
  const cases: AttackCase[] = [
    http(`history of ${target}`, who, notFound, (f) => ({ path: `/chat/history?conversation=${encodeURIComponent(id(f))}` })),
    http(`GET ${target}`, who, notFound, (f) => ({ path: `/conversations/${encodeURIComponent(id(f))}` })),
    http(`receipts of ${target}`, who, notFound, (f) => ({ path: `/conversations/${encodeURIComponent(id(f))}/receipts` })),
    http(`mark ${target} read`, who, notFound, (f) => ({ path: `/conversations/${encodeURIComponent(id(f))}/read`, body: { messageId: msg(f) } })),
    http(`send into ${target}`, who, notFound, (f) => ({ path: '/chat/send', body: { conversationId: id(f), text: 'let me in' } })),
  ];
  if (target !== 'dm') {
    cases.push(
      http(`rename ${target}`, who, notFound, (f) => ({ method: 'PATCH', path: `/conversations/${id(f)}`, body: { name: 'pwned' } })),
      http(`add themself to ${target}`, who, notFound, (f) => ({ path: `/conversations/${id(f)}/members`, body: { members: [f[who].username] } })),
      http(`remove Bob from ${target}`, who, notFound, (f) => ({ method: 'DELETE', path: `/conversations/${id(f)}/members/${f.bob.username}` })),
      http(`make themself admin of ${target}`, who, notFound, (f) => ({ method: 'PATCH', path: `/conversations/${id(f)}/members/${f[who].username}`, body: { role: 'admin' } })),
    );
  }
  return cases;
}

/** A socket of `who`, after `ready`; the case's outcome is the first `error` frame's code. */
async function socketError(f: Fixtures, who: Who, query: Record<string, string>, first?: unknown): Promise<Outcome> {
  const ws = await TestClient.connect(f.stack.gateway.url, f[who].token, query);
  try {
    if (first !== undefined) ws.send(first);
    const error = await ws.next((frame) => frame.type === 'error', 5_000);
    await sleep(300); // anything replayed would have arrived by now
    const replayed = ws.ofType('new_message');
    assert.deepEqual(replayed, [], 'nothing was replayed');
    return { status: ws.isOpen ? 1000 : (ws.closeResult?.code ?? 0), code: error.error.code };
  } finally {
    ws.close();
  }
}

export const AUTHORIZATION_CASES: AttackCase[] = [
  ...outsider('mallory', 'dm'),
  ...outsider('mallory', 'group'),
  ...outsider('carol', 'formerGroup'),
  http('sync from Alice\'s cursor', 'mallory', invalid, (f) => ({ path: `/chat/sync?after=${f.aliceCursor}` })),
  http('history paged with Alice\'s cursor', 'mallory', invalid, (f) => ({ path: `/chat/history?with=${f.bob.username}&before=${f.aliceCursor}` })),
  http('conversation list paged from Alice\'s group', 'mallory', { status: 200 }, (f) => ({ path: `/conversations?before=${Buffer.from(`l1:${Date.now() + 60_000}:${f.group.id}`).toString('base64url')}` }), (_f, outcome) => {
    assert.deepEqual((outcome.body as { conversations: unknown[] }).conversations, [], 'the list shows only her own');
  }),
  http('presence of Alice (not a contact)', 'mallory', { status: 200 }, (f) => ({ path: `/presence?users=${f.alice.username},${f.bob.username}` }), (_f, outcome) => {
    const users = (outcome.body as { users: { status: string }[] }).users;
    assert.deepEqual(users.map((u) => u.status), ['unknown', 'unknown']);
  }),
  http('group members through the internal route', 'mallory', forbidden, (f) => ({ path: `/internal/conversations/${f.group.id}/members` })),
  http('rename the group (a member)', 'bob', forbidden, (f) => ({ method: 'PATCH', path: `/conversations/${f.group.id}`, body: { name: 'bob was here' } })),
  http('make themself admin (a member)', 'bob', forbidden, (f) => ({ method: 'PATCH', path: `/conversations/${f.group.id}/members/${f.bob.username}`, body: { role: 'admin' } })),
  http('remove the owner (a member)', 'bob', forbidden, (f) => ({ method: 'DELETE', path: `/conversations/${f.group.id}/members/${f.alice.username}` })),
  http('add Mallory (a member)', 'bob', forbidden, (f) => ({ path: `/conversations/${f.group.id}/members`, body: { members: [f.mallory.username] } })),
  {
    area: 'authorization',
    name: 'mallory: resume from Alice\'s cursor (query)',
    service: 'gateway',
    expect: { status: 1000, code: 'invalid_cursor' },
    send: (f) => socketError(f, 'mallory', { since: f.aliceCursor }),
  },
  {
    area: 'authorization',
    name: 'mallory: resume from Alice\'s cursor (first frame)',
    service: 'gateway',
    expect: { status: 1000, code: 'invalid_cursor' },
    send: (f) => socketError(f, 'mallory', {}, { type: 'resume', since: f.aliceCursor }),
  },
  {
    area: 'authorization',
    name: 'mallory: typing into Alice\'s group',
    service: 'gateway',
    expect: { status: 1000, code: 'not_a_member' },
    send: (f) => socketError(f, 'mallory', {}, { type: 'typing', conversationId: f.group.id }),
  },
  {
    area: 'authorization',
    name: 'mallory: typing into Alice and Bob\'s 1:1',
    service: 'gateway',
    expect: { status: 1000, code: 'not_a_member' },
    send: (f) => socketError(f, 'mallory', {}, { type: 'typing', conversationId: f.dm.id }),
  },
  {
    area: 'authorization',
    name: 'alice: a "from" field does not choose the sender (stored as Alice\'s)',
    service: 'chat',
    expect: { status: 201 },
    async send(f) {
      return outcomeOf(await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: f.bob.username, text: 'from whom?', from: f.carol.username } }));
    },
    async stored(f, outcome) {
      assert.equal((outcome.body as { message: { from: string } }).message.from, f.alice.username);
    },
  },
  {
    area: 'authorization',
    name: 'mallory: a live socket gets nothing of Alice and Bob\'s',
    service: 'gateway',
    expect: { status: 201 },
    async send(f) {
      const [spy, bob] = await Promise.all([TestClient.connect(f.stack.gateway.url, f.mallory.token), TestClient.connect(f.stack.gateway.url, f.bob.token)]);
      try {
        spy.send({ type: 'ping' });
        bob.send({ type: 'ping' });
        const res = await request(`${f.stack.chat.url}/chat/send`, { token: f.alice.token, body: { to: f.bob.username, text: 'for bob only' } });
        await bob.next((frame) => frame.type === 'new_message' && frame.message.text === 'for bob only');
        await sleep(300);
        assert.deepEqual(spy.ofType('new_message'), [], 'mallory received a message of others');
        return outcomeOf(res);
      } finally {
        spy.close();
        bob.close();
      }
    },
    async stored(f, outcome) {
      assert.equal((outcome.body as { message: { to: string } }).message.to, f.bob.username);
    },
  },
];
