import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '@chat/common/contracts';
import { parseLogin, parseRegistration } from './validation.js';

function rejection(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    return { status: err.status, code: err.code, message: err.message };
  }
  assert.fail('expected the call to throw');
}

// The username rule itself is tested beside it, in @chat/common (username.test.ts).

test('register: a missing field is 400 invalid_request naming the field', () => {
  assert.deepEqual(rejection(() => parseRegistration({ password: 'password1' })), { status: 400, code: 'invalid_request', message: 'username is required' });
  assert.deepEqual(rejection(() => parseRegistration({ username: 'alice' })), { status: 400, code: 'invalid_request', message: 'password is required' });
});

test('register: a non-string field (an operator object, a number, null) is 400 before any query', () => {
  for (const value of [{ $ne: null }, { $gt: '' }, 42, null, true, ['alice']]) {
    assert.equal(rejection(() => parseRegistration({ username: value, password: 'password1' })).message, 'username must be a string');
    assert.equal(rejection(() => parseRegistration({ username: 'alice', password: value })).message, 'password must be a string');
  }
});

test('register: each broken rule has its own message', () => {
  assert.match(rejection(() => parseRegistration({ username: 'ab', password: 'password1' })).message, /username must be 3 to 32 characters/);
  assert.match(rejection(() => parseRegistration({ username: 'x'.repeat(33), password: 'password1' })).message, /username must be 3 to 32 characters/);
  assert.match(rejection(() => parseRegistration({ username: 'bad name', password: 'password1' })).message, /username may contain only/);
  assert.match(rejection(() => parseRegistration({ username: 'alice', password: 'short' })).message, /password must be 8 to 256 characters/);
  assert.match(rejection(() => parseRegistration({ username: 'alice', password: 'x'.repeat(257) })).message, /password must be 8 to 256 characters/);
  assert.match(rejection(() => parseRegistration({ username: 'alice', password: 'abcdefg\ud800' })).message, /unpaired surrogate/);
});

test('register: passwords count Unicode characters, not bytes or UTF-16 units', () => {
  const emoji = '😀'; // 1 character, 2 UTF-16 units, 4 UTF-8 bytes (codePointLength's own test: common/src/text.test.ts)
  assert.deepEqual(parseRegistration({ username: 'alice', password: emoji.repeat(8) }), { username: 'alice', password: emoji.repeat(8) });
  assert.deepEqual(parseRegistration({ username: 'alice', password: emoji.repeat(256) }).password.length, 512);
  assert.match(rejection(() => parseRegistration({ username: 'alice', password: emoji.repeat(257) })).message, /8 to 256/);
  assert.match(rejection(() => parseRegistration({ username: 'alice', password: emoji.repeat(7) })).message, /8 to 256/);
  assert.equal(parseRegistration({ username: 'alice', password: 'пароль-пароль' }).password, 'пароль-пароль');
});

test('register: the registered spelling is kept', () => {
  assert.deepEqual(parseRegistration({ username: 'AliCe', password: 'password1', extra: 1 }), { username: 'AliCe', password: 'password1' });
});

test('login: fields must be present strings, other rules are left to the credential check', () => {
  assert.equal(rejection(() => parseLogin({ password: 'x' })).message, 'username is required');
  assert.equal(rejection(() => parseLogin({ username: { $ne: null }, password: 'x' })).message, 'username must be a string');
  assert.equal(rejection(() => parseLogin({ username: 'alice', password: { $ne: null } })).message, 'password must be a string');
  assert.deepEqual(parseLogin({ username: 'a b', password: 'x' }), { username: 'a b', password: 'x' });
});
