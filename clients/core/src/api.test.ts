/** What the group calls put on the wire, against a recording fetch. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, ChatApi } from './api.ts';

function recording(answers: { status: number; body?: unknown }[]) {
  const calls: { method: string; url: string; body: unknown; auth: string | null }[] = [];
  const api = new ChatApi(
    { authUrl: 'http://auth.test', chatUrl: 'http://chat.test', gatewayUrl: 'ws://gw.test' },
    {
      fetch: async (url, init) => {
        const headers = new Headers(init?.headers);
        calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined, auth: headers.get('authorization') });
        const a = answers.shift() ?? { status: 200, body: {} };
        return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
      },
    },
  );
  return { api, calls };
}

const group = { id: 'g:abc', type: 'group', name: 'Team', createdAt: 't', createdBy: { id: '1', username: 'alice' }, members: [] };

test('send carries exactly one of to and conversationId', async () => {
  const { api, calls } = recording([{ status: 201, body: { message: { id: 'm1' } } }, { status: 200, body: { message: { id: 'm2' } } }]);
  assert.deepEqual(await api.send('tok', { to: 'bob', text: 'hi', clientMsgId: 'c1' }), { message: { id: 'm1' }, created: true });
  assert.deepEqual(await api.send('tok', { conversationId: 'g:abc', text: 'hi', clientMsgId: 'c2' }), { message: { id: 'm2' }, created: false });
  assert.deepEqual(calls.map((c) => c.body), [{ to: 'bob', text: 'hi', clientMsgId: 'c1' }, { conversationId: 'g:abc', text: 'hi', clientMsgId: 'c2' }]);
  assert.equal(calls[0]!.auth, 'Bearer tok');
});

test('history by peer or by conversation id', async () => {
  const { api, calls } = recording([{ status: 200, body: { messages: [], nextBefore: null } }, { status: 200, body: { messages: [], nextBefore: null } }]);
  await api.history('tok', { with: 'bob', limit: 5 });
  await api.history('tok', { conversation: 'g:abc', before: 'p1' });
  assert.deepEqual(calls.map((c) => c.url), ['http://chat.test/chat/history?with=bob&limit=5', 'http://chat.test/chat/history?conversation=g%3Aabc&before=p1']);
});

test('the group routes: paths, methods and bodies; leaving answers 204 with no body', async () => {
  const { api, calls } = recording([
    { status: 201, body: { conversation: group } },
    { status: 200, body: { conversation: group } },
    { status: 200, body: { conversation: group } },
    { status: 200, body: { conversation: group } },
    { status: 200, body: { conversation: group } },
    { status: 200, body: { conversation: group } },
    { status: 204 },
  ]);
  assert.deepEqual(await api.createGroup('tok', { name: 'Team', members: ['bob'] }), group);
  await api.group('tok', 'g:abc');
  await api.renameGroup('tok', 'g:abc', 'New');
  await api.addMembers('tok', 'g:abc', ['carol']);
  await api.removeMember('tok', 'g:abc', 'carol');
  await api.setRole('tok', 'g:abc', 'bob', 'admin');
  assert.equal(await api.leaveGroup('tok', 'g:abc', 'alice'), undefined);
  assert.deepEqual(
    calls.map((c) => [c.method, c.url.replace('http://chat.test', ''), c.body]),
    [
      ['POST', '/conversations', { name: 'Team', members: ['bob'] }],
      ['GET', '/conversations/g%3Aabc', undefined],
      ['PATCH', '/conversations/g%3Aabc', { name: 'New' }],
      ['POST', '/conversations/g%3Aabc/members', { members: ['carol'] }],
      ['DELETE', '/conversations/g%3Aabc/members/carol', undefined],
      ['PATCH', '/conversations/g%3Aabc/members/bob', { role: 'admin' }],
      ['DELETE', '/conversations/g%3Aabc/members/alice', undefined],
    ],
  );
});

test('allConversations walks the pages; refusals keep their code', async () => {
  const entry = (id: string) => ({ id, type: 'direct', peer: { id, username: id }, lastMessage: null, lastActivityAt: 't' });
  const { api, calls } = recording([
    { status: 200, body: { conversations: [entry('a')], nextBefore: 'n1' } },
    { status: 200, body: { conversations: [entry('b')], nextBefore: null } },
    { status: 403, body: { error: { code: 'forbidden', message: 'only the owner' } } },
  ]);
  const all = await api.allConversations('tok');
  assert.deepEqual(all.conversations.map((c) => c.id), ['a', 'b']);
  assert.equal(all.complete, true);
  assert.deepEqual(calls.map((c) => new URL(c.url).search), ['?limit=100', '?limit=100&before=n1']);
  await assert.rejects(api.setRole('tok', 'g:abc', 'bob', 'member'), (err: unknown) => err instanceof ApiError && err.status === 403 && err.code === 'forbidden');
});

test('read receipts and presence: paths, bodies, and presence asked in batches of 100 in the order given', async () => {
  const names = Array.from({ length: 150 }, (_, i) => `u${i}`);
  const { api, calls } = recording([
    { status: 200, body: { readUpTo: 'm1', unread: 0 } },
    { status: 200, body: { conversationId: 'g:abc', memberCount: 2, readLatestCount: 1, receipts: null } },
    { status: 200, body: { users: names.slice(0, 100).map((username) => ({ username, status: 'unknown' })) } },
    { status: 200, body: { users: names.slice(100).map((username) => ({ username, status: 'online' })) } },
  ]);
  assert.deepEqual(await api.markRead('tok', 'dm:a:b', 'm1'), { readUpTo: 'm1', unread: 0 });
  assert.equal((await api.receipts('tok', 'g:abc')).receipts, null);
  const presence = await api.presence('tok', names);
  assert.deepEqual(presence.map((p) => p.username), names);
  assert.deepEqual(calls.slice(0, 2).map((c) => [c.method, c.url, c.body]), [
    ['POST', 'http://chat.test/conversations/dm%3Aa%3Ab/read', { messageId: 'm1' }],
    ['GET', 'http://chat.test/conversations/g%3Aabc/receipts', undefined],
  ]);
  assert.deepEqual(calls.slice(2).map((c) => new URL(c.url).searchParams.get('users')!.split(',').length), [100, 50]);
  assert.equal(new URL(calls[2]!.url).pathname, '/presence');
  assert.deepEqual(await api.presence('tok', []), [], 'no call for nobody');
  assert.equal(calls.length, 4);
});
