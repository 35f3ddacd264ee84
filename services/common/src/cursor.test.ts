import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from './cursor.js';

test('a cursor round-trips and is opaque', () => {
  const c = encodeCursor({ userId: '65f0c0ffee', seq: 42 });
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(c), { userId: '65f0c0ffee', seq: 42 });
});

test('garbage is not a cursor', () => {
  for (const v of ['', 'abc', '!!!', 42, null, { $gt: '' }, Buffer.from('c1:u:-1').toString('base64url'), Buffer.from('c1:u:1e3').toString('base64url')]) {
    assert.equal(decodeCursor(v), undefined, String(v));
  }
});
