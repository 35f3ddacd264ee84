import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@chat/client-core';
import { conversationTitle, formatConversation, formatMessage, formatTime, visible } from './format.ts';

const at = (y: number, mo: number, d: number, h: number, mi: number, s: number) => new Date(y, mo - 1, d, h, mi, s);
const msg = (over: Partial<ChatMessage> = {}): ChatMessage => ({ id: 'm1', from: 'alice', to: 'bob', text: 'hello', createdAt: at(2025, 1, 2, 12, 3, 4).toISOString(), ...over });

test('time of day for today, the date as well for anything older (local time)', () => {
  const iso = at(2025, 1, 2, 12, 3, 4).toISOString();
  assert.equal(formatTime(iso, at(2025, 1, 2, 23, 0, 0)), '12:03:04');
  assert.equal(formatTime(iso, at(2025, 1, 3, 0, 0, 1)), '2025-01-02 12:03:04');
  assert.equal(formatTime('not a date'), 'not a date');
});

test('a message line: time, sender → recipient, text', () => {
  assert.equal(formatMessage(msg(), at(2025, 1, 2, 13, 0, 0)), '12:03:04  alice → bob  hello');
});

test('later lines of a multi-line message start under the first', () => {
  assert.equal(formatMessage(msg({ text: 'one\ntwo' }), at(2025, 1, 2, 13, 0, 0)), `12:03:04  alice → bob  one\n${' '.repeat(23)}two`);
});

test('control characters from other people are shown, not obeyed by the terminal', () => {
  assert.equal(visible('a\u001b[31mred\u0007'), 'a\u241b[31mred\u2407');
  assert.equal(visible('over\rwrite'), 'over\u240dwrite');
  assert.equal(visible('x\u009b2Jy\u007f'), 'x\ufffd2Jy\u2421');
  assert.equal(visible('abc\u202edef\u2066'), 'abc\ufffddef\ufffd');
  assert.equal(visible('tab\tand\nnewline, émoji 👋'), 'tab\tand\nnewline, émoji 👋');
});

test('a conversation line: peer, time, who spoke last and a one-line preview', () => {
  const now = at(2025, 1, 2, 13, 0, 0);
  assert.equal(formatConversation({ peer: 'bob', lastMessage: msg(), unread: 0 }, 'alice', 5, now), 'bob    12:03:04  you: hello');
  const long = msg({ from: 'bob', to: 'alice', text: `line\n${'x'.repeat(80)}` });
  const line = formatConversation({ peer: 'bob', lastMessage: long, unread: 1 }, 'alice', 3, now);
  assert.match(line, /^bob {2}12:03:04 {2}bob: line x+…$/);
  assert.equal([...line.split('bob: ')[1]!].length, 60);
});

const G = 'g:0123456789abcdef01234567';
const groupMsg = (over: Partial<ChatMessage> = {}): ChatMessage => ({ id: 'g1', conversationId: G, from: 'alice', text: 'hi all', createdAt: at(2025, 1, 2, 12, 3, 4).toISOString(), ...over });

test('a group message names the group, by name when known, else by id; a system message shows its text', () => {
  const now = at(2025, 1, 2, 13, 0, 0);
  assert.equal(formatMessage(groupMsg(), now, () => 'Team'), '12:03:04  alice → #Team  hi all');
  assert.equal(formatMessage(groupMsg(), now), `12:03:04  alice → #${G}  hi all`);
  const added = groupMsg({ kind: 'system', event: 'member_added', text: 'alice added bob' });
  assert.equal(formatMessage(added, now, () => 'Team'), '12:03:04  #Team  * alice added bob');
  assert.equal(formatMessage(groupMsg({ text: 'a\nb' }), now, () => 'T'), `12:03:04  alice → #T  a\n${' '.repeat(22)}b`);
  assert.equal(formatMessage(groupMsg(), now, () => 'evil\u001b[2J'), '12:03:04  alice → #evil\u241b[2J  hi all');
});

test('a group conversation line: #name, and a system message or no message yet', () => {
  const now = at(2025, 1, 2, 13, 0, 0);
  const g = { group: { id: G, name: 'Team' }, lastMessage: groupMsg({ kind: 'system', event: 'created', text: 'alice created the group' }), unread: 0 };
  assert.equal(conversationTitle(g), '#Team');
  assert.equal(formatConversation(g, 'bob', 6, now), '#Team   12:03:04  * alice created the group');
  assert.equal(formatConversation({ ...g, lastMessage: groupMsg() }, 'alice', 5, now), '#Team  12:03:04  you: hi all');
  assert.equal(formatConversation({ ...g, lastMessage: null }, 'bob', 5, now), '#Team  (no messages yet)');
});

test('conversations: an unread column only when something is unread, and "seen" on a 1:1 the peer has read', () => {
  const now = new Date(2026, 0, 2, 12, 0, 0);
  const at = new Date(2026, 0, 2, 12, 3, 4).toISOString();
  const mine = { id: '65a000000000000000000002', conversationId: 'dm:a:b', from: 'alice', to: 'bob', text: 'hello', createdAt: at };
  const theirs = { ...mine, from: 'bob', to: 'alice', text: 'hi' };
  assert.equal(formatConversation({ peer: 'bob', lastMessage: theirs, unread: 12 }, 'alice', 5, now, 4), 'bob    (12)  12:03:04  bob: hi');
  assert.equal(formatConversation({ peer: 'carol', lastMessage: theirs, unread: 0 }, 'alice', 5, now, 4), 'carol        12:03:04  bob: hi');
  assert.equal(formatConversation({ peer: 'bob', lastMessage: null, unread: 0 }, 'alice', 3, now, 3), 'bob       (no messages yet)');
  assert.equal(formatConversation({ peer: 'bob', lastMessage: mine, unread: 0, peerReadUpTo: mine.id }, 'alice', 3, now), 'bob  12:03:04  you: hello  ✓ seen');
  assert.equal(formatConversation({ peer: 'bob', lastMessage: mine, unread: 0, peerReadUpTo: '65a000000000000000000001' }, 'alice', 3, now), 'bob  12:03:04  you: hello', 'read up to an older one');
  assert.equal(formatConversation({ peer: 'bob', lastMessage: theirs, unread: 0, peerReadUpTo: mine.id }, 'alice', 3, now), 'bob  12:03:04  bob: hi', 'only under my own');
});
