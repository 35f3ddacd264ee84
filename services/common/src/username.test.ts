import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUsername, sameUsername, usernameKey, usernameRuleViolation } from './username.js';

test('a username is 3 to 32 of A-Z a-z 0-9 _ . -', () => {
  for (const ok of ['abc', 'A_b.c-9', 'x'.repeat(32), '...', '___', 'Kelvin']) assert.equal(isUsername(ok), true, ok);
  for (const bad of ['ab', 'x'.repeat(33), 'has space', 'émile', 'a/b', 'a$b', 'ab\n', '', 7, null, { $ne: null }]) {
    assert.equal(isUsername(bad), false, JSON.stringify(bad));
  }
});

// Each of these folds onto the ASCII name beside it under toLowerCase(), NFC or NFKC (or hides in
// it), which is how two services came to disagree about who "\u212Aelvin" is. The rule refuses
// them all instead of folding.
const LOOK_ALIKES: Array<[string, string, string]> = [
  ['\u212Aelvin', 'kelvin', 'KELVIN SIGN lowercases to "k"'],
  ['\uFF4Belvin', 'kelvin', 'FULLWIDTH SMALL K is "k" under NFKC'],
  ['\uFF2B\uFF25\uFF2C', 'kel', 'fullwidth capitals'],
  ['\u0130stanbul', 'istanbul', 'CAPITAL I WITH DOT ABOVE lowercases to "i" + U+0307'],
  ['\u0131smail', 'ismail', 'DOTLESS SMALL I uppercases to "I"'],
  ['e\u0301mile', 'emile', 'e + COMBINING ACUTE'],
  ['\u017Fam', 'sam', 'LONG S uppercases to "S"'],
  ['ali\u200Bce', 'alice', 'ZERO WIDTH SPACE'],
  ['ali\u202Ece', 'alice', 'RIGHT-TO-LEFT OVERRIDE'],
  ['\uFB00ab', 'ffab', 'LIGATURE FF is "ff" under NFKC'],
  ['\u2170\u2171x', 'iiix', 'SMALL ROMAN NUMERALS ONE and TWO are "i", "ii" under NFKC'],
];

test('look-alikes that Unicode folds onto ASCII are not usernames, and the message says why', () => {
  for (const [name, , what] of LOOK_ALIKES) {
    assert.equal(isUsername(name), false, what);
    assert.match(usernameRuleViolation(name) ?? '', /^username may contain only the ASCII letters/, what);
  }
  assert.equal(
    usernameRuleViolation('to\u00e9', 'to'),
    "to may contain only the ASCII letters A-Z and a-z, digits, '_', '.' and '-' (look-alike letters such as the Kelvin sign or fullwidth forms are refused, not folded)",
  );
  assert.equal(usernameRuleViolation('ab'), 'username must be 3 to 32 characters long');
  // Lengths in code points: three emoji are three characters (refused for what they are), not six.
  assert.match(usernameRuleViolation('\u{1F600}\u{1F600}\u{1F600}') ?? '', /may contain only/);
  assert.equal(usernameRuleViolation('alice'), undefined);
});

test('the key folds ASCII letter case only, so no look-alike ever names an ASCII user', () => {
  assert.equal(usernameKey('Alice.B'), 'alice.b');
  assert.ok(sameUsername('Alice.B', 'aLICE.b'));
  for (const [name, ascii, what] of LOOK_ALIKES) {
    assert.equal(sameUsername(name, ascii), false, what);
    assert.equal(sameUsername(name, ascii.toUpperCase()), false, what);
  }
  // Why String.prototype.toLowerCase is not the key:
  assert.equal('\u212Aelvin'.toLowerCase(), 'kelvin');
});
