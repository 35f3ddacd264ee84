import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@chat/client-core';
import { PageStorage, readKey, SESSION_KEY, STREAM_KEEP, streamKey, trimStream, type KeyValue } from './storage.ts';

class MemoryKV implements KeyValue {
  readonly map = new Map<string, string>();
  quota = Infinity;
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    if (v.length > this.quota) throw new Error('QuotaExceededError');
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

const msg = (id: string, from: string, to: string, at = Number(id)): ChatMessage => ({ id, from, to, text: `t${id}`, createdAt: new Date(at * 1000).toISOString() });
const session = (token: string) => ({ token, user: { id: 'u1', username: 'Bob' }, expiresAt: 1_000 });

test('the session round-trips, and clearing it leaves a newer login from another tab alone', () => {
  const kv = new MemoryKV();
  const store = new PageStorage(kv);
  assert.equal(store.loadSession(), undefined);
  store.saveSession(session('t1'));
  assert.deepEqual(store.loadSession(), session('t1'));
  store.saveSession(session('t2')); // another tab logged in again
  store.clearSession('t1');
  assert.equal(store.loadSession()?.token, 't2');
  store.clearSession('t2');
  assert.equal(kv.getItem(SESSION_KEY), null);
});

test('stored values of the wrong shape read as absent', () => {
  const kv = new MemoryKV();
  const store = new PageStorage(kv);
  for (const bad of ['{', 'null', '[]', '{"token":1}', '{"token":"t","expiresAt":1,"user":{}}']) {
    kv.setItem(SESSION_KEY, bad);
    assert.equal(store.loadSession(), undefined, bad);
  }
  kv.setItem(streamKey('bob'), '{"cursor":"c","messages":[{"id":"1"}]}');
  assert.equal(store.loadStream('bob'), undefined);
  kv.setItem(readKey('bob'), '{"alice":"m1","carol":7}');
  assert.deepEqual(store.loadReadMarks('bob'), { alice: 'm1' });
  kv.setItem(readKey('bob'), '["x"]');
  assert.deepEqual(store.loadReadMarks('bob'), {});
});

test('the stream is saved per user (any spelling of the name), cursor and messages together', () => {
  const store = new PageStorage(new MemoryKV());
  const messages = [msg('1', 'alice', 'Bob'), msg('2', 'Bob', 'alice')];
  store.saveStream('Bob', { cursor: 'c2', messages });
  assert.deepEqual(store.loadStream('bob'), { cursor: 'c2', messages });
  assert.equal(store.loadStream('alice'), undefined);
  store.forgetStream('BOB');
  assert.equal(store.loadStream('Bob'), undefined);
});

test('a stream copy over the quota is dropped rather than left stale', () => {
  const kv = new MemoryKV();
  const store = new PageStorage(kv);
  store.saveStream('bob', { cursor: 'c1', messages: [msg('1', 'alice', 'bob')] });
  kv.quota = 10;
  store.saveStream('bob', { cursor: 'c2', messages: [msg('1', 'alice', 'bob'), msg('2', 'alice', 'bob')] });
  assert.equal(store.loadStream('bob'), undefined);
});

test('trimming keeps the newest messages and the last message of every older conversation, in order', () => {
  const stream = [msg('1', 'carol', 'me'), msg('2', 'dave', 'me'), msg('3', 'me', 'carol'), msg('4', 'alice', 'me'), msg('5', 'me', 'alice'), msg('6', 'Alice', 'me')];
  assert.deepEqual(trimStream(stream, 'me', 2).map((m) => m.id), ['2', '3', '5', '6']);
  assert.deepEqual(trimStream(stream, 'ME', 10).map((m) => m.id), ['1', '2', '3', '4', '5', '6']);
  const long = Array.from({ length: STREAM_KEEP + 50 }, (_, i) => msg(String(i + 1), 'alice', 'me'));
  const store = new PageStorage(new MemoryKV());
  store.saveStream('me', { cursor: 'c', messages: long });
  const saved = store.loadStream('me')!;
  assert.equal(saved.messages.length, STREAM_KEEP);
  assert.equal(saved.messages.at(-1)!.id, String(STREAM_KEEP + 50));
});
