import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codePointLength, hasUnpairedSurrogate, unstorableTextReason } from './text.js';

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

test('unstorableTextReason names an unpaired surrogate or a NUL anywhere, and passes every other text', () => {
  assert.match(unstorableTextReason('a\ud800')!, /unpaired surrogate/);
  for (const nul of ['\u0000', 'a\u0000', '\u0000b', '😀\u0000😀']) assert.match(unstorableTextReason(nul)!, /U\+0000/, JSON.stringify(nul));
  for (const good of ['plain', '😀', '\u0001\u001f\u007f', '\u200b\u200f\u202e', 'ünïcödé ✓ 中文']) assert.equal(unstorableTextReason(good), undefined, JSON.stringify(good));
});
