import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCursor, RequestError } from '@chat/common/contracts';
import { HISTORY_LIMIT, parseConversationParam, parseCursorParam, parseGroupName, parseLimit, parseMemberNames, parseMessageId, parseSendRequest, parseUsernameList, parseUsernameParam, parseUsernamePath, SYNC_LIMIT } from './validation.js';

const isBadRequest = (fn: () => unknown) => assert.throws(fn, (err: unknown) => err instanceof RequestError && err.status === 400 && err.code === 'invalid_request');

test('a valid send body keeps to, text and clientMsgId exactly, and ignores other fields', () => {
  assert.deepEqual(parseSendRequest({ to: 'Bob', text: '  hi\n', clientMsgId: 'c1', from: 'mallory' }), { to: 'Bob', text: '  hi\n', clientMsgId: 'c1' });
  assert.deepEqual(parseSendRequest({ to: 'bob', text: 'x' }), { to: 'bob', text: 'x' });
  assert.equal(parseSendRequest({ to: 'bob', text: '😀'.repeat(4000) }).text.length, 8000, 'characters are code points');
});

test('text must be a non-blank string of 1..4000 characters of valid Unicode', () => {
  for (const text of [undefined, null, 1, {}, [], { $gt: '' }, '', ' ', '\t\n\u00a0\u2028', 'x'.repeat(4001), '😀'.repeat(4001), 'a\udc00b']) {
    isBadRequest(() => parseSendRequest({ to: 'bob', text }));
  }
});

test('a text of only U+0085, or of only characters that show nothing, is blank (Unicode White_Space, not JS \\s)', () => {
  for (const text of ['\u0085', '\u0085 \u0085', '\u200b\u200d', '\u202e', '\ufeff', '\u3164']) isBadRequest(() => parseSendRequest({ to: 'bob', text }));
  for (const text of ['\u0085x', '\u0007', '\u202eabc', '\u200bb']) assert.equal(parseSendRequest({ to: 'bob', text }).text, text, JSON.stringify(text));
});

test('a group name is trimmed of Unicode White_Space and must not be blank', () => {
  assert.equal(parseGroupName('\u0085\u3000 team \u0085'), 'team');
  assert.equal(parseGroupName('\u202eteam'), '\u202eteam', 'stored as sent inside');
  for (const name of ['\u0085', ' \u3000 ', '\u200b\u200b', '\u202e', 'n'.repeat(101), 'a\u0000b', 'a\ud800']) isBadRequest(() => parseGroupName(name));
  assert.equal(parseGroupName('n'.repeat(100)).length, 100);
});

test('the conversation parameter is given at most once', () => {
  assert.equal(parseConversationParam('g:1', 'conversation'), 'g:1');
  assert.equal(parseConversationParam(undefined, 'conversation'), undefined);
  isBadRequest(() => parseConversationParam(['g:1', 'g:1'], 'conversation'));
});

test('to and clientMsgId are type- and length-checked', () => {
  for (const to of [undefined, null, 5, { $ne: null }, ['bob'], '', 'x'.repeat(65), '\ud800']) isBadRequest(() => parseSendRequest({ to, text: 'hi' }));
  for (const clientMsgId of [null, 5, {}, '', 'x'.repeat(65), '\udbff']) isBadRequest(() => parseSendRequest({ to: 'bob', text: 'hi', clientMsgId }));
  assert.equal(parseSendRequest({ to: 'bob', text: 'hi', clientMsgId: '🙂'.repeat(64) }).clientMsgId, '🙂'.repeat(64));
});

test('limits: integers within range, default when absent, a repeated parameter is refused', () => {
  assert.equal(parseLimit(undefined, HISTORY_LIMIT), 50);
  assert.equal(parseLimit('1', HISTORY_LIMIT), 1);
  assert.equal(parseLimit('100', HISTORY_LIMIT), 100);
  assert.equal(parseLimit('500', SYNC_LIMIT), 500);
  for (const raw of ['0', '101', '-1', '1.0', '1e1', ' 5', 'abc', '', '0x10', '9999999']) isBadRequest(() => parseLimit(raw, HISTORY_LIMIT));
  isBadRequest(() => parseLimit(['1', '2'], HISTORY_LIMIT));
});

test("cursors: the caller's own cursor gives its seq; garbage or another user's cursor is refused", () => {
  assert.equal(parseCursorParam(undefined, 'u1', 'after'), undefined);
  assert.equal(parseCursorParam(encodeCursor({ userId: 'u1', seq: 42 }), 'u1', 'after'), 42);
  isBadRequest(() => parseCursorParam(encodeCursor({ userId: 'u2', seq: 42 }), 'u1', 'after'));
  for (const raw of ['', 'nope', '$ne', Buffer.from('c1:u1:-1').toString('base64url'), Buffer.from('c2:u1:1').toString('base64url')]) {
    isBadRequest(() => parseCursorParam(raw, 'u1', 'before'));
  }
  isBadRequest(() => parseCursorParam([encodeCursor({ userId: 'u1', seq: 1 })], 'u1', 'after'));
});

test('the with parameter is required and a username (@chat/common username rule)', () => {
  assert.equal(parseUsernameParam('Bob', 'with'), 'Bob');
  for (const raw of [undefined, '', 'x'.repeat(33), '\ud800', ['a', 'b'], 'ab', 'no such/user']) isBadRequest(() => parseUsernameParam(raw, 'with'));
});

test('a username is never folded: look-alikes of an ASCII name are 400 wherever a name comes in', () => {
  for (const lookAlike of ['\u212Aelvin', '\uFF4Belvin', '\u0130smail', '\u0131smail', 'ke\u0301lvin', 'kel\u200Bvin']) {
    isBadRequest(() => parseUsernameParam(lookAlike, 'with'));
    isBadRequest(() => parseSendRequest({ to: lookAlike, text: 'hi' }));
    isBadRequest(() => parseMemberNames([lookAlike], 'alice', 10));
    isBadRequest(() => parseUsernameList(`bob,${lookAlike}`, 'users'));
    isBadRequest(() => parseUsernamePath(lookAlike));
  }
  assert.throws(() => parseSendRequest({ to: '\u212Aelvin', text: 'hi' }), /to may contain only the ASCII letters/);
  // Letter case is the only thing folded, and only in ASCII: the caller in another case is the caller.
  assert.deepEqual(parseMemberNames(['Bob', 'BOB', 'ALICE', 'carol'], 'alice', 10), ['Bob', 'carol']);
});

test('a message id is 24 hexadecimal digits, answered in lower case; anything else is a 400', () => {
  assert.equal(parseMessageId('0123456789abcdef01234567'), '0123456789abcdef01234567');
  assert.equal(parseMessageId('0123456789ABCDEF01234567'), '0123456789abcdef01234567');
  for (const id of [undefined, null, 7, {}, [], { $ne: null }, ['0123456789abcdef01234567'], '', '0123456789abcdef0123456', '0123456789abcdef012345678', '0123456789abcdef0123456g', ' 0123456789abcdef0123456']) {
    isBadRequest(() => parseMessageId(id));
  }
});
