import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { decodeCursor, parseNewMessageEvent } from '@chat/common/contracts';
import { buildNewMessageEvent } from './message-event.js';
import { directConversationId, parseConversationId } from './conversation-id.js';
import { idempotencyKey, recipientsOf, toChatMessage, type MessageDoc } from './message.js';

function doc(overrides: Partial<MessageDoc> = {}): MessageDoc {
  const _id = new ObjectId();
  return { _id, conversationId: directConversationId('ua', 'ub'), position: 1, fromId: 'ua', from: 'Alice', toId: 'ub', to: 'Bob', text: 'hi', createdAt: new Date('2026-01-02T03:04:05.678Z'), idemKey: idempotencyKey(_id, undefined), published: false, ...overrides };
}

test('the API shape: id, conversationId, from, to, text, ISO createdAt, and clientMsgId only when given; no kind on text', () => {
  const plain = doc();
  assert.deepEqual(toChatMessage(plain), { id: plain._id.toHexString(), conversationId: 'dm:ua:ub', from: 'Alice', to: 'Bob', text: 'hi', createdAt: '2026-01-02T03:04:05.678Z' });
  assert.ok(JSON.stringify(toChatMessage(plain)).startsWith(`{"id":"${plain._id.toHexString()}","conversationId":`), 'sync recognizes old entries by this opening');
  const withId = doc({ clientMsgId: 'c-9' });
  assert.equal(toChatMessage(withId).clientMsgId, 'c-9');
});

test('the event is exactly {type, version, message, cursors} and round-trips through the shared parser', () => {
  const d = doc({ clientMsgId: 'c-1' });
  const event = buildNewMessageEvent(d, { ua: 7, ub: 3 });
  assert.deepEqual(Object.keys(event), ['type', 'version', 'message', 'cursors']);
  assert.equal(event.type, 'new_message');
  assert.equal(event.version, 1);
  assert.deepEqual(event.message, toChatMessage(d));
  assert.deepEqual(decodeCursor(event.cursors.ua), { userId: 'ua', seq: 7 });
  assert.deepEqual(decodeCursor(event.cursors.ub), { userId: 'ub', seq: 3 });
  assert.deepEqual(parseNewMessageEvent(Buffer.from(JSON.stringify(event))), event);
});

test('idempotency keys never collide between a clientMsgId and an own id; a message to oneself has one participant', () => {
  const id = new ObjectId();
  assert.notEqual(idempotencyKey(id, undefined), idempotencyKey(id, id.toHexString()));
  assert.equal(directConversationId('ub', 'ua'), directConversationId('ua', 'ub'));
  assert.notEqual(directConversationId('ua', 'ub'), directConversationId('ua', 'uc'));
  assert.deepEqual(recipientsOf({ fromId: 'u', toId: 'u' }), ['u']);
  assert.deepEqual(recipientsOf({ fromId: 'a', toId: 'b' }), ['a', 'b']);
  assert.deepEqual(recipientsOf({ fromId: 'a', recipientIds: ['a', 'b', 'c'] }), ['a', 'b', 'c']);
});

test('a group message has no to; a system message names its kind, event, actor and users', () => {
  const group = doc({ conversationId: 'g:0123456789abcdef01234567', toId: undefined, to: undefined, recipientIds: ['ua', 'ub'] });
  delete group.toId;
  delete group.to;
  assert.equal('to' in toChatMessage(group), false);
  const system = doc({ ...group, system: { event: 'member_added', users: [{ id: 'ub', username: 'Bob' }] }, text: 'Alice added Bob' });
  delete system.toId;
  delete system.to;
  const shown = toChatMessage(system);
  assert.equal(shown.kind, 'system');
  assert.equal(shown.event, 'member_added');
  assert.deepEqual(shown.actor, { id: 'ua', username: 'Alice' });
  assert.deepEqual(shown.users, [{ id: 'ub', username: 'Bob' }]);
});

test('conversation ids: a direct id is the sorted pair; anything else that is not a group id names nothing', () => {
  const a = '0123456789abcdef01234567';
  const b = 'fedcba9876543210fedcba98';
  assert.deepEqual(parseConversationId(directConversationId(b, a)), { type: 'direct', id: `dm:${a}:${b}`, userIds: [a, b] });
  assert.equal(parseConversationId(`dm:${b}:${a}`), undefined, 'unsorted');
  assert.deepEqual(parseConversationId(`g:${a}`), { type: 'group', id: `g:${a}` });
  for (const bad of [undefined, 7, '', 'g:', `g:${a}x`, `dm:${a}`, { $ne: null }, `G:${a}`]) assert.equal(parseConversationId(bad), undefined, String(bad));
});
