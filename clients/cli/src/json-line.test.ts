import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLine } from './json-line.ts';

test('writes C0, DEL, C1 and bidi controls as escapes: the same value, nothing a terminal obeys', () => {
  const text = 'a\u001b[31mred\u0007 \u009b2J \u007f \u202eevil\u2066 \u2028 émoji 👋';
  const line = jsonLine({ text });
  const raw = [...line].filter((ch) => { const c = ch.codePointAt(0)!; return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069); });
  assert.deepEqual(raw, [], 'no control character left raw');
  assert.match(line, /\\u009b2J/);
  assert.match(line, /\\u202eevil\\u2066/);
  assert.deepEqual(JSON.parse(line), { text });
  assert.ok(line.includes('émoji 👋'), 'printable text stays as it is');
});
