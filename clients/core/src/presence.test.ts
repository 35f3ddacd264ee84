import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PresenceBook, presenceText } from './presence.ts';

test('the list on connect, then frames; only changes count; names without letter case', () => {
  const book = new PresenceBook();
  assert.equal(book.applyList([{ username: 'Bob', status: 'online' }, { username: 'carol', status: 'offline', lastSeen: '2026-01-01T10:00:00.000Z' }, { username: 'eve', status: 'unknown' }]), true);
  assert.deepEqual(book.get('bob'), { status: 'online' });
  assert.equal(book.apply({ user: { id: 'u-bob', username: 'bob' }, status: 'online' }), false, 'no change');
  assert.equal(book.apply({ user: { id: 'u-bob', username: 'bob' }, status: 'offline', lastSeen: '2026-01-01T11:00:00.000Z' }), true);
  assert.deepEqual(book.get('BOB'), { status: 'offline', lastSeen: '2026-01-01T11:00:00.000Z' });
  assert.equal(book.apply({ user: { id: 'u-carol', username: 'carol' }, status: 'online', lastSeen: 'ignored' }), true);
  assert.deepEqual(book.get('carol'), { status: 'online' }, 'lastSeen only with offline');
  assert.deepEqual(book.get('eve'), { status: 'unknown' });
  assert.equal(book.has('dave'), false);
  assert.equal(book.applyList([{ username: 'eve', status: 'unknown' }]), false);
});

test('names compare as the services compare them: ASCII letter case only, never a look-alike', () => {
  const book = new PresenceBook();
  book.applyList([{ username: 'kelvin', status: 'online' }, { username: 'ismail', status: 'online' }]);
  assert.deepEqual(book.get('KELVIN'), { status: 'online' });
  // toLowerCase() would fold the Kelvin sign onto "k"; the services refuse such a name.
  assert.equal(book.has('\u212Aelvin'), false);
  assert.equal(book.has('\u0130smail'), false);
  assert.equal(book.has('\uFF4Belvin'), false);
});

test('the words, in local time', () => {
  const now = new Date(2026, 2, 10, 12, 0, 0);
  const at = (d: Date) => ({ status: 'offline' as const, lastSeen: d.toISOString() });
  assert.equal(presenceText(undefined, now), '');
  assert.equal(presenceText({ status: 'unknown' }, now), '');
  assert.equal(presenceText({ status: 'online' }, now), 'online');
  assert.equal(presenceText({ status: 'offline' }, now), 'offline', 'never connected');
  assert.equal(presenceText(at(new Date(2026, 2, 10, 11, 59, 30)), now), 'last seen just now');
  assert.equal(presenceText(at(new Date(2026, 2, 10, 11, 55, 0)), now), 'last seen 5 min ago');
  assert.equal(presenceText(at(new Date(2026, 2, 10, 9, 5, 0)), now), 'last seen today at 09:05');
  assert.equal(presenceText(at(new Date(2026, 2, 9, 22, 40, 0)), now), 'last seen yesterday at 22:40');
  assert.equal(presenceText(at(new Date(2026, 2, 3, 10, 0, 0)), now), 'last seen 3 Mar at 10:00');
  assert.equal(presenceText(at(new Date(2025, 11, 31, 8, 0, 0)), now), 'last seen 31 Dec 2025 at 08:00');
});
