import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUsernames } from './usernames.ts';

test('commas, spaces or both; an @ in front is dropped; each name once', () => {
  assert.deepEqual(parseUsernames(' bob, carol  @dave,,Bob ;erin '), ['bob', 'carol', 'dave', 'erin']);
  assert.deepEqual(parseUsernames('  ,  '), []);
});
