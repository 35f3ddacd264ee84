import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codePointLength, hasUnpairedSurrogate, isBlank, trimWhiteSpace, unstorableTextReason } from './text.js';

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

test('isBlank: only Unicode White_Space and default-ignorable characters, U+0085 included (JS \\s leaves it out)', () => {
  for (const blank of ['', ' ', '\u0085', '\u0085\u0085', '\t\n\u000b\f\r', '\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000', '\u200b\u200c\u200d\u2060\ufeff', '\u202e\u202d\u2066\u200e', '\u3164\u115f', '\u00ad', '\ufe0f']) {
    assert.equal(isBlank(blank), true, JSON.stringify(blank));
  }
  for (const text of ['a', ' a ', '\u0085x', '.', '😀', '\u0007', '\u200bb', '\u202eabc', 'ㅋ']) assert.equal(isBlank(text), false, JSON.stringify(text));
});

test('trimWhiteSpace trims Unicode White_Space at both ends, U+0085 and U+3000 included, and nothing inside', () => {
  assert.equal(trimWhiteSpace('\u0085\u3000 team name\t\u0085'), 'team name');
  assert.equal(trimWhiteSpace('\u200bteam\u200b'), '\u200bteam\u200b', 'zero-width characters are not White_Space');
  assert.equal(trimWhiteSpace('\u0085'), '');
});
