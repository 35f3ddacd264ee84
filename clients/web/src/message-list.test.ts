import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@chat/client-core';
import { MessageList } from './message-list.ts';

const msg = (id: string, at: number): ChatMessage => ({ id, from: 'a', to: 'b', text: id, createdAt: new Date(at * 1000).toISOString() });

test('a message id is kept once, whichever path brings it again', () => {
  const list = new MessageList();
  assert.equal(list.add(msg('1', 1)), 0);
  assert.equal(list.add(msg('2', 2)), 1);
  assert.equal(list.add(msg('1', 1)), -1);
  assert.equal(list.add({ ...msg('2', 2), text: 'echo' }), -1);
  assert.deepEqual(list.messages.map((m) => m.text), ['1', '2']);
  assert.equal(list.size, 2);
  assert.ok(list.has('2') && !list.has('3'));
});

test('oldest first: an older history page lands above, returning the index to insert at', () => {
  const list = new MessageList();
  list.add(msg('5', 5));
  list.add(msg('6', 6));
  // history pages arrive newest first
  assert.equal(list.add(msg('4', 4)), 0);
  assert.equal(list.add(msg('3', 3)), 0);
  assert.equal(list.add(msg('late', 5.5)), 3);
  assert.deepEqual(list.messages.map((m) => m.id), ['3', '4', '5', 'late', '6']);
  assert.equal(list.last?.id, '6');
});

test('equal times keep arrival order (the stream is already in storage order)', () => {
  const list = new MessageList();
  for (const id of ['x', 'y', 'z']) list.add(msg(id, 7));
  list.add(msg('before', 6));
  assert.deepEqual(list.messages.map((m) => m.id), ['before', 'x', 'y', 'z']);
});

test('indexOf finds a message where the list put it', () => {
  const list = new MessageList();
  for (const [id, at] of [['a', 1], ['c', 3], ['b', 2]] as const) list.add(msg(id, at));
  assert.deepEqual(['a', 'b', 'c', 'zz'].map((id) => list.indexOf(id)), [0, 1, 2, undefined]);
});
