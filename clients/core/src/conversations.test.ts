import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from './api.ts';
import { conversationsFrom } from './conversations.ts';

const msg = (id: string, from: string, to: string, at: number): ChatMessage => ({ id, from, to, text: id, createdAt: new Date(at * 1000).toISOString() });

test('one entry per peer, newest activity first, unread counts only the peer\'s messages after the read mark', () => {
  const stream = [msg('1', 'bob', 'me', 1), msg('2', 'me', 'bob', 2), msg('3', 'carol', 'me', 3), msg('4', 'bob', 'me', 4), msg('5', 'bob', 'me', 5)];
  const list = conversationsFrom(stream, 'me', { bob: '4' });
  assert.deepEqual(list.map((c) => [c.peer, c.lastMessage.id, c.unread]), [['bob', '5', 1], ['carol', '3', 1]]);
  assert.deepEqual(conversationsFrom(stream, 'me').map((c) => c.unread), [3, 1]);
});

test('a message to oneself is one conversation with oneself', () => {
  assert.deepEqual(conversationsFrom([msg('1', 'me', 'me', 1)], 'me').map((c) => [c.peer, c.unread]), [['me', 0]]);
});
