import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonBodyRuleViolation, MAX_JSON_DEPTH } from './json-body-rules.js';

test('ordinary bodies pass, whatever their values hold', () => {
  for (const body of [
    '{}',
    '{"to":"bob","text":"hi"}',
    '{"name":"team","members":["bob","carol"]}',
    // Operators, dots and prototype names as values (or inside strings) are text, not keys.
    '{"text":"{\\"$ne\\":null} a.b __proto__","to":"$bob"}',
    '{"text":"a \\" quote, a comma, a } and a ]","clientMsgId":"x"}',
    '{"a":{"b":1},"c":{"b":2}}', // the same key in two objects is no duplicate
    '[{"a":1},{"a":2}]',
    '  {"a" : [ {"b" : "c"} , 1 ] }  ',
    '{"a":"ends in a backslash \\\\","b":"\\\\\\"quoted\\\\\\"","c":1}', // escaped backslashes before a closing quote
  ]) {
    JSON.parse(body); // the rules assume valid JSON: each case must be
    assert.equal(jsonBodyRuleViolation(body), undefined, body);
  }
});

test('keys that are operators or paths are refused at any depth', () => {
  assert.match(jsonBodyRuleViolation('{"to":"bob","$where":"1"}')!, /"\$where" may not start with "\$"/);
  assert.match(jsonBodyRuleViolation('{"to":{"$ne":null}}')!, /"\$ne"/);
  assert.match(jsonBodyRuleViolation('{"members":[{"$gt":""}]}')!, /"\$gt"/);
  assert.match(jsonBodyRuleViolation('{"a.b":1}')!, /"a\.b" may not contain "\."/);
});

test('prototype keys are refused, however they are escaped', () => {
  for (const body of ['{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}', '{"a":{"prototype":1}}', '{"\\u005f_proto__":1}']) {
    assert.match(jsonBodyRuleViolation(body)!, /is not allowed/, body);
  }
});

test('a key given twice in one object is refused, escapes included', () => {
  assert.match(jsonBodyRuleViolation('{"to":"bob","to":"carol"}')!, /"to" is given twice/);
  assert.match(jsonBodyRuleViolation('{"to":"bob","t\\u006f":"carol"}')!, /"to" is given twice/);
  assert.match(jsonBodyRuleViolation('{"a":[{"x":1,"x":2}]}')!, /"x" is given twice/);
  assert.match(jsonBodyRuleViolation('{"a":"x\\\\","a":"y"}')!, /"a" is given twice/, 'a value ending in a backslash ends there');
});

test(`nesting up to ${MAX_JSON_DEPTH} levels passes, deeper is refused`, () => {
  const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  assert.equal(jsonBodyRuleViolation(nested(MAX_JSON_DEPTH)), undefined);
  assert.match(jsonBodyRuleViolation(nested(MAX_JSON_DEPTH + 1))!, /nested deeper/);
  assert.match(jsonBodyRuleViolation(nested(5000))!, /nested deeper/);
});

test('a key in a message is quoted (control characters escaped) and shortened', () => {
  const long = jsonBodyRuleViolation(`{"$${'x'.repeat(100)}":1}`)!;
  assert.ok(long.length < 120, long);
  const bell = jsonBodyRuleViolation('{"$\\u0007":1}')!;
  assert.ok(bell.includes('"$\\u0007"'), bell);
  assert.ok(!bell.includes(String.fromCharCode(7)), bell);
});
