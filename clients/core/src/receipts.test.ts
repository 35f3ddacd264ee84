import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConversationListEntry, ReadResult } from './conversation-types.ts';
import { isAtOrAfter, laterMark, ReadMarks, ReadReporter, seenByPeer } from './receipts.ts';

// ObjectIds: the first 8 hex digits are the creation second.
const oid = (second: number, n = 0) => `${second.toString(16).padStart(8, '0')}${n.toString(16).padStart(16, '0')}`;

test('order: by position on screen when both are there, else by ObjectId time', () => {
  const order = ['b', 'a'];
  const position = (id: string) => (order.includes(id) ? order.indexOf(id) : undefined);
  assert.equal(isAtOrAfter('a', 'b', position), true);
  assert.equal(isAtOrAfter('b', 'a', position), false);
  assert.equal(isAtOrAfter('a', 'a'), true);
  assert.equal(isAtOrAfter(oid(2), oid(1)), true);
  assert.equal(isAtOrAfter(oid(1, 5), oid(1, 6)), false);
  assert.equal(isAtOrAfter('x', 'y'), false, 'no way to tell');
  assert.equal(laterMark(undefined, oid(1)), oid(1));
  assert.equal(laterMark(oid(3), null), oid(3));
  assert.equal(laterMark(oid(1), oid(3)), oid(3));
});

const me = { id: 'u-me', username: 'me' };
const bob = { id: 'u-bob', username: 'bob' };
const direct = (id: string, extra: Partial<ConversationListEntry>): ConversationListEntry => ({ id, type: 'direct', peer: bob, lastMessage: null, lastActivityAt: '', ...extra }) as ConversationListEntry;

test('marks only move forward, whichever source is older: a list fetched before a frame arrived cannot undo it', () => {
  const marks = new ReadMarks(me);
  assert.deepEqual(marks.fromList([direct('dm:1', { readUpTo: oid(1), peerReadUpTo: oid(2) }), direct('dm:2', { readUpTo: null })]), ['dm:1']);
  assert.equal(marks.applyFrame({ conversationId: 'dm:1', user: me, readUpTo: oid(5) }), 'own', "my other device read");
  assert.equal(marks.applyFrame({ conversationId: 'dm:1', user: bob, readUpTo: oid(4) }), 'peer');
  assert.deepEqual(marks.fromList([direct('dm:1', { readUpTo: oid(3), peerReadUpTo: oid(3) })]), [], 'an older snapshot');
  assert.equal(marks.ownMark('dm:1'), oid(5));
  assert.equal(marks.peerMark('dm:1'), oid(4));
  assert.equal(marks.applyFrame({ conversationId: 'dm:1', user: bob, readUpTo: oid(4) }), undefined, 'a repeat moves nothing');
  assert.equal(marks.applyFrame({ conversationId: 'g:1', user: bob, readUpTo: oid(4) }), 'member');
  assert.equal(marks.setOwn('g:1', oid(9)), true);
  assert.equal(marks.setOwn('g:1', oid(8)), false);
});

test('seen: the peer read my newest message or something after it', () => {
  assert.equal(seenByPeer(oid(5), oid(5)), true);
  assert.equal(seenByPeer(oid(6), oid(5)), true);
  assert.equal(seenByPeer(oid(4), oid(5)), false);
  assert.equal(seenByPeer(undefined, oid(5)), false);
  assert.equal(seenByPeer(oid(5), undefined), false);
});

/** A report function whose answers the test releases one by one. */
function deferredReports() {
  const calls: { conversationId: string; messageId: string; resolve: (r: ReadResult) => void; reject: (e: unknown) => void }[] = [];
  const report = (conversationId: string, messageId: string) => new Promise<ReadResult>((resolve, reject) => calls.push({ conversationId, messageId, resolve, reject }));
  return { calls, report };
}
const tick = () => new Promise((r) => setImmediate(r));

test('the reporter: one call in flight per conversation, then only the newest waiting mark; nothing Chat already has', async () => {
  const { calls, report } = deferredReports();
  const results: [string, ReadResult][] = [];
  const r = new ReadReporter(report, { onResult: (id, res) => results.push([id, res]) });
  r.known('dm:1', oid(2));
  assert.equal(r.seen('dm:1', oid(1)), false, 'older than what Chat has');
  assert.equal(r.seen('dm:1', oid(2)), false, 'what Chat has');
  assert.equal(r.seen('dm:1', oid(3)), true);
  assert.equal(r.seen('dm:1', oid(3)), false, 'already on its way');
  assert.equal(r.seen('dm:1', oid(4)), true);
  assert.equal(r.seen('dm:1', oid(5)), true);
  assert.equal(r.seen('g:1', oid(5)), true, 'another conversation does not wait');
  assert.deepEqual(calls.map((c) => [c.conversationId, c.messageId]), [['dm:1', oid(3)], ['g:1', oid(5)]]);
  calls[0]!.resolve({ readUpTo: oid(3), unread: 2 });
  await tick();
  assert.deepEqual(calls.map((c) => c.messageId), [oid(3), oid(5), oid(5)], 'only the newest of the waiting ones');
  assert.equal(r.busy('dm:1'), true);
  calls[2]!.resolve({ readUpTo: oid(5), unread: 0 });
  await tick();
  assert.equal(r.busy('dm:1'), false);
  assert.deepEqual(results, [['dm:1', { readUpTo: oid(3), unread: 2 }], ['dm:1', { readUpTo: oid(5), unread: 0 }]]);
  assert.equal(r.seen('dm:1', oid(5)), false);
});

test('a failed report is not retried on its own; the next mark goes out', async () => {
  const { calls, report } = deferredReports();
  const errors: unknown[] = [];
  const r = new ReadReporter(report, { onError: (e) => errors.push(e) });
  r.seen('dm:1', oid(1));
  calls[0]!.reject(new Error('boom'));
  await tick();
  assert.equal(errors.length, 1);
  assert.equal(calls.length, 1);
  assert.equal(r.seen('dm:1', oid(1)), true, 'not acknowledged, so it may go again');
  assert.equal(calls.length, 2);
});
