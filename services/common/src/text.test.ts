import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codePointLength, hasUnpairedSurrogate } from './text.js';

test('codePointLength counts astral characters once', () => {
  assert.equal(codePointLength('a😀b'), 3);
  assert.equal(codePointLength(''), 0);
  const emoji = '😀'; // 1 character, 2 UTF-16 units, 4 UTF-8 bytes
  assert.equal(codePointLength(emoji.repeat(8)), 8);
});

test('hasUnpairedSurrogate finds a lone half of a pair anywhere, and only that', () => {
  for (const bad of ['\ud800', '\udbff', 'a\udc00b', 'abcdefg\ud800', '😀\ud83d']) assert.equal(hasUnpairedSurrogate(bad), true, JSON.stringify(bad));
  for (const good of ['', 'plain', '😀', '🙂'.repeat(64), 'ünïcödé ✓ 中文', '\u0000']) assert.equal(hasUnpairedSurrogate(good), false, JSON.stringify(good));
});
