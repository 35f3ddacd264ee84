import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from './api.ts';
import { conversationKey, conversationsFrom, membershipFrom, mergeConversations, summaryKey, summaryOf, summaryTitle } from './conversations.ts';

const msg = (id: string, from: string, to: string, at: number): ChatMessage => ({ id, from, to, text: id, createdAt: new Date(at * 1000).toISOString() });

test('one entry per peer, newest activity first, unread counts only the peer\'s messages after the read mark or my own last message', () => {
  const stream = [msg('1', 'bob', 'me', 1), msg('2', 'me', 'bob', 2), msg('3', 'carol', 'me', 3), msg('4', 'bob', 'me', 4), msg('5', 'bob', 'me', 5)];
  const list = conversationsFrom(stream, 'me', { bob: '4' });
  assert.deepEqual(list.map((c) => [c.peer, c.lastMessage.id, c.unread, c.counted]), [['bob', '5', 1, true], ['carol', '3', 1, undefined]]);
  // Sending moves the sender's mark (as Chat does): what bob wrote before my reply is read.
  assert.deepEqual(conversationsFrom(stream, 'me').map((c) => c.unread), [2, 1]);
});

test('a message to oneself is one conversation with oneself', () => {
  assert.deepEqual(conversationsFrom([msg('1', 'me', 'me', 1)], 'me').map((c) => [c.peer, c.unread]), [['me', 0]]);
});

const G = 'g:0123456789abcdef01234567';
const gmsg = (id: string, from: string, at: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({ id, conversationId: G, from, text: id, createdAt: new Date(at * 1000).toISOString(), ...extra });
const system = (id: string, at: number, event: ChatMessage['event'], from: string, users: string[], extra: Partial<ChatMessage> = {}): ChatMessage =>
  gmsg(id, from, at, { kind: 'system', event, actor: { id: `u-${from}`, username: from }, users: users.map((u) => ({ id: `u-${u}`, username: u })), text: `${from} ${event}`, ...extra });

test('a group is one entry keyed by its id, named by its newest created or renamed message; 1:1 entries stay keyed by peer', () => {
  const stream = [
    system('1', 1, 'created', 'alice', ['me', 'bob'], { name: 'Team' }),
    { ...msg('2', 'bob', 'me', 2), conversationId: 'dm:a:b' },
    gmsg('3', 'bob', 3),
    system('4', 4, 'renamed', 'alice', [], { name: 'Team 2' }),
    gmsg('5', 'me', 5),
  ];
  const list = conversationsFrom(stream, 'me', { [G]: '3' });
  // My message 5 came after alice's rename (4): sending marks the group read up to it.
  assert.deepEqual(list.map((c) => [summaryKey(c), summaryTitle(c), c.lastMessage.id, c.unread]), [[G, 'Team 2', '5', 0], ['bob', 'bob', '2', 1]]);
  assert.equal(conversationsFrom(stream.slice(0, 4), 'me', { [G]: '3' })[0]!.unread, 1, 'before it, the rename was unread');
  assert.equal(list[1]!.id, 'dm:a:b');
  assert.equal(conversationKey(gmsg('x', 'me', 1), 'me'), G);
  assert.equal(conversationKey(msg('x', 'me', 'Bob', 1), 'ME'), 'Bob');
});

test('membership follows the system messages that name me', () => {
  const stream = [system('1', 1, 'created', 'alice', ['me']), system('2', 2, 'member_removed', 'alice', ['me'])];
  assert.equal(membershipFrom(stream, 'me').get(G), false);
  assert.equal(membershipFrom([...stream, system('3', 3, 'member_added', 'alice', ['Me'])], 'me').get(G), true);
  assert.equal(membershipFrom([system('1', 1, 'created', 'me', ['bob'])], 'me').get(G), true, 'the creator is not among `users`');
  assert.equal(membershipFrom([system('1', 1, 'member_left', 'bob', ['bob'])], 'me').get(G), undefined);
});

test('the list lays names, counts and roles over the stream, keeps the newer last message and orders by activity', () => {
  const stream = [gmsg('1', 'bob', 1), msg('2', 'carol', 'me', 2)];
  const summaries = conversationsFrom(stream, 'me');
  const listed = [
    { id: 'dm:x:y', type: 'direct' as const, peer: { id: 'u-carol', username: 'carol' }, lastMessage: msg('2', 'carol', 'me', 2), lastActivityAt: new Date(2000).toISOString() },
    // The list's last message lags: the stream's is newer.
    { id: G, type: 'group' as const, name: 'Team', createdAt: '', createdBy: { id: 'u-a', username: 'alice' }, memberCount: 3, role: 'admin' as const, lastMessage: null, lastActivityAt: new Date(500).toISOString() },
    { id: 'dm:x:z', type: 'direct' as const, peer: { id: 'u-dave', username: 'dave' }, lastMessage: msg('0', 'dave', 'me', 0.5), lastActivityAt: new Date(500).toISOString() },
  ];
  const merged = mergeConversations(summaries, listed, 'me', stream);
  assert.deepEqual(merged.map((c) => [summaryTitle(c), c.lastMessage?.id, c.unread]), [['carol', '2', 1], ['Team', '1', 1], ['dave', '0', 0]]);
  assert.deepEqual(merged[1]!.group, { id: G, name: 'Team', memberCount: 3, role: 'admin' });
  assert.equal(merged[0]!.id, 'dm:x:y');
  // Before the list is in, the stream alone.
  assert.deepEqual(mergeConversations(summaries, undefined, 'me', stream).map((c) => summaryTitle(c)), ['carol', 'Group']);
});

test('groups the user left, or that the list no longer names, drop out; a group newer than the list stays', () => {
  const left = [gmsg('1', 'bob', 1), system('2', 2, 'member_left', 'me', ['me'])];
  assert.deepEqual(mergeConversations(conversationsFrom(left, 'me'), undefined, 'me', left), []);
  const stream = [gmsg('1', 'bob', 1)];
  const listedAt = new Date(60_000).toISOString();
  assert.deepEqual(mergeConversations(conversationsFrom(stream, 'me'), [], 'me', stream, { listedAt }), [], 'removed without a notice: the list says so');
  assert.equal(mergeConversations(conversationsFrom(stream, 'me'), [], 'me', stream, { listedAt: new Date(5_000).toISOString() }).length, 1, 'too new for the list');
  assert.deepEqual(mergeConversations(conversationsFrom(stream, 'me'), undefined, 'me', stream, { exclude: new Set([G]) }), [], 'left here, no notice needed');
});

const oid = (second: number) => `${second.toString(16).padStart(8, '0')}${'0'.repeat(16)}`;

test("Chat's unread counts where the stream cannot (no mark, none of mine in it), plus what arrived after the list", () => {
  // A trimmed stream: carol's last listed message (id 10) and one newer; bob's mark is in the stream.
  const stream = [msg(oid(10), 'carol', 'me', 10), msg(oid(11), 'bob', 'me', 11), msg(oid(12), 'bob', 'me', 12), msg(oid(13), 'carol', 'me', 13)];
  const summaries = conversationsFrom(stream, 'me', { bob: oid(11) });
  const listed = [
    { id: 'dm:c', type: 'direct' as const, peer: { id: 'u-carol', username: 'carol' }, lastMessage: stream[0]!, lastActivityAt: '', unread: 7, readUpTo: oid(3), peerReadUpTo: oid(10) },
    { id: 'dm:b', type: 'direct' as const, peer: { id: 'u-bob', username: 'bob' }, lastMessage: stream[1]!, lastActivityAt: '', unread: 5, readUpTo: null },
    { id: 'dm:d', type: 'direct' as const, peer: { id: 'u-dave', username: 'dave' }, lastMessage: msg(oid(2), 'dave', 'me', 2), lastActivityAt: '', unread: 1, readUpTo: null },
  ];
  const merged = mergeConversations(summaries, listed, 'me', stream);
  assert.deepEqual(merged.map((c) => [c.peer, c.unread]), [['carol', 8], ['bob', 1], ['dave', 1]]);
  assert.equal(merged[0]!.peerReadUpTo, oid(10));
  assert.equal(merged[0]!.readUpTo, oid(3));
  // A Chat without receipts: the stream's count, as before.
  const old = listed.map(({ unread: _u, readUpTo: _r, ...rest }) => rest);
  assert.deepEqual(mergeConversations(summaries, old, 'me', stream).map((c) => [c.peer, c.unread]), [['carol', 2], ['bob', 1], ['dave', 0]]);
  assert.equal(summaryOf(listed[1]!).unread, 5);
  assert.equal(summaryOf(listed[1]!).readUpTo, null);
});
