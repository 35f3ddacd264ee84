/**
 * Chat's internal routes, what the gateways ask instead of a database: a group's members (for
 * typing) and users' contacts (for presence). Service token only; every field checked first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceTokenSource } from '@chat/common/jwt';
import { request, startStack, waitFor, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { assertEnvelope, send } from './support.js';

let stack: Stack;
let chat: RunningService;
let service: string;

before(async () => {
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' }, serviceEnv: { chat: { CONVERSATION_ACTIVITY_INTERVAL_MS: '20' } } });
  chat = await stack.start('chat');
  service = await createServiceTokenSource('gateway', stack.env.SERVICE_TOKEN_SECRET!)();
});
after(() => stack?.stop());

const contacts = (token: string, body: unknown) => request(`${chat.url}/internal/contacts`, { token, body });
const members = (token: string, id: string) => request(`${chat.url}/internal/conversations/${encodeURIComponent(id)}/members`, { token });

test('contacts: the peers of 1:1 conversations and the members of groups, never the user; members of a group', async () => {
  const [alice, bob, carol, dave, erin] = (await Promise.all(Array.from({ length: 5 }, () => stack.user('ir')))) as TestUser[] as [TestUser, TestUser, TestUser, TestUser, TestUser];
  assert.equal((await send(chat.url, alice, { to: bob.username, text: 'hi' })).status, 201);
  const created = await request(`${chat.url}/conversations`, { token: carol.token, body: { name: 'g', members: [alice.username, dave.username] } });
  assert.equal(created.status, 201, created.text);
  const groupId = created.body.conversation.id as string;

  const found = await waitFor('the 1:1 list entries', async () => {
    const res = await contacts(service, { userIds: [alice.id, bob.id, dave.id, erin.id] });
    assert.equal(res.status, 200, res.text);
    return res.body.contacts[bob.id].length > 0 ? res.body.contacts : undefined;
  });
  assert.deepEqual(new Set(found[alice.id]), new Set([bob.id, carol.id, dave.id]));
  assert.deepEqual(found[bob.id], [alice.id]);
  assert.deepEqual(new Set(found[dave.id]), new Set([alice.id, carol.id]));
  assert.deepEqual(found[erin.id], [], 'nobody shares a conversation with erin');

  const res = await members(service, groupId);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(new Set(res.body.memberIds), new Set([carol.id, alice.id, dave.id]));
  assertEnvelope(await members(service, 'g:0123456789abcdef01234567'), 404, 'conversation_not_found');
  assertEnvelope(await members(service, `dm:${alice.id}:${bob.id}`), 404, 'conversation_not_found');
  assertEnvelope(await members(service, 'nonsense'), 404, 'conversation_not_found');
});

test('a user token is 403, no token 401, and every field is checked before any query', async () => {
  const user = await stack.user('ir');
  assertEnvelope(await contacts(user.token, { userIds: [user.id] }), 403, 'forbidden');
  assertEnvelope(await members(user.token, 'g:0123456789abcdef01234567'), 403, 'forbidden');
  assertEnvelope(await request(`${chat.url}/internal/contacts`, { body: { userIds: [user.id] } }), 401, 'unauthorized');
  const forged = await createServiceTokenSource('gateway', 'a-wrong-secret-that-is-long-enough-0123456789')();
  assertEnvelope(await contacts(forged, { userIds: [user.id] }), 401, 'unauthorized');
  for (const body of [{}, { userIds: [] }, { userIds: 'x' }, { userIds: [{ $ne: null }] }, { userIds: ['not-an-id'] }, { userIds: Array.from({ length: 201 }, () => user.id) }, []]) {
    const res = await contacts(service, body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.ok(['invalid_request', 'invalid_json'].includes(res.body.error.code), res.text);
  }
});
