import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { decodeCursor, parseNewMessageEvent } from '@chat/common/contracts';
import { buildNewMessageEvent } from './message-event.js';
import { directConversationId, idempotencyKey, participants, toChatMessage, type MessageDoc } from './message.js';

function doc(overrides: Partial<MessageDoc> = {}): MessageDoc {
  const _id = new ObjectId();
  return { _id, conversationId: directConversationId('ua', 'ub'), position: 1, fromId: 'ua', from: 'Alice', toId: 'ub', to: 'Bob', text: 'hi', createdAt: new Date('2026-01-02T03:04:05.678Z'), idemKey: idempotencyKey(_id, undefined), published: false, ...overrides };
}

test('the API shape: id, from, to, text, ISO createdAt, and clientMsgId only when given', () => {
  const plain = doc();
  assert.deepEqual(toChatMessage(plain), { id: plain._id.toHexString(), from: 'Alice', to: 'Bob', text: 'hi', createdAt: '2026-01-02T03:04:05.678Z' });
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
  assert.deepEqual(participants({ fromId: 'u', toId: 'u' }), [{ userId: 'u', peerId: 'u' }]);
  assert.deepEqual(participants({ fromId: 'a', toId: 'b' }), [
    { userId: 'a', peerId: 'b' },
    { userId: 'b', peerId: 'a' },
  ]);
});
