import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeenIds } from './seen-ids.ts';

test('an id is new once, then a duplicate', () => {
  const seen = new SeenIds();
  assert.equal(seen.add('a'), true);
  assert.equal(seen.add('a'), false);
  assert.equal(seen.add('b'), true);
  assert.equal(seen.size, 2);
});

test('past its capacity it forgets the oldest ids first', () => {
  const seen = new SeenIds(3);
  for (const id of ['a', 'b', 'c', 'd']) seen.add(id);
  assert.equal(seen.size, 3);
  assert.equal(seen.has('a'), false);
  assert.equal(seen.has('d'), true);
  assert.equal(seen.add('b'), false);
});
