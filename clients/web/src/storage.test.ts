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

/** A page's two stores: this tab's own, and the one every tab shares. */
function stores() {
  const tab = new MemoryKV();
  const shared = new MemoryKV();
  return { tab, shared, store: new PageStorage(tab, shared) };
}

test('the session round-trips in the tab store, and clearing it leaves a later login in the tab alone', () => {
  const { tab, shared, store } = stores();
  assert.equal(store.loadSession(), undefined);
  store.saveSession(session('t1'));
  assert.deepEqual(store.loadSession(), session('t1'));
  assert.deepEqual(JSON.parse(tab.getItem(SESSION_KEY)!), session('t1'));
  assert.equal(shared.map.size, 0, 'nothing of the session in the shared store');
  store.saveSession(session('t2')); // logged in again in this tab before the old session's end was handled
  store.clearSession('t1');
  assert.equal(store.loadSession()?.token, 't2');
  store.clearSession('t2');
  assert.equal(tab.getItem(SESSION_KEY), null);
});

test('a session in the shared store is not this tab\'s', () => {
  const { shared, store } = stores();
  shared.setItem(SESSION_KEY, JSON.stringify(session('t1'))); // e.g. left there by an older version of the page
  assert.equal(store.loadSession(), undefined);
});

test('two tabs sharing the shared store hold different sessions, and the same per-user data', () => {
  const shared = new MemoryKV();
  const tabA = new PageStorage(new MemoryKV(), shared);
  const tabB = new PageStorage(new MemoryKV(), shared);
  const carol = { token: 'tc', user: { id: 'u3', username: 'carol' }, expiresAt: 1_000 };
  const dave = { token: 'td', user: { id: 'u4', username: 'dave' }, expiresAt: 1_000 };
  tabA.saveSession(carol);
  assert.equal(tabB.loadSession(), undefined, 'a new tab starts logged out');
  tabB.saveSession(dave);
  assert.deepEqual(tabA.loadSession(), carol);
  assert.deepEqual(tabB.loadSession(), dave);
  tabB.clearSession('td');
  assert.deepEqual(tabA.loadSession(), carol, 'a logout in one tab leaves the other logged in');

  // A third tab of Carol's sees what her first tab saved.
  const tabC = new PageStorage(new MemoryKV(), shared);
  const messages = [msg('1', 'dave', 'carol')];
  tabA.saveStream('carol', { cursor: 'c1', messages });
  tabA.saveReadMarks('carol', { dave: '1' });
  assert.deepEqual(tabC.loadStream('carol'), { cursor: 'c1', messages });
  assert.deepEqual(tabC.loadReadMarks('carol'), { dave: '1' });
  assert.equal(tabB.loadStream('dave'), undefined, 'per user: nothing of Carol\'s under Dave');
});

test('stored values of the wrong shape read as absent', () => {
  const { tab, shared, store } = stores();
  for (const bad of ['{', 'null', '[]', '{"token":1}', '{"token":"t","expiresAt":1,"user":{}}']) {
    tab.setItem(SESSION_KEY, bad);
    assert.equal(store.loadSession(), undefined, bad);
  }
  shared.setItem(streamKey('bob'), '{"cursor":"c","messages":[{"id":"1"}]}');
  assert.equal(store.loadStream('bob'), undefined);
  shared.setItem(readKey('bob'), '{"alice":"m1","carol":7}');
  assert.deepEqual(store.loadReadMarks('bob'), { alice: 'm1' });
  shared.setItem(readKey('bob'), '["x"]');
  assert.deepEqual(store.loadReadMarks('bob'), {});
});

test('the stream and the read marks are saved per user (any spelling of the name) in the shared store, cursor and messages together', () => {
  const { tab, shared, store } = stores();
  const messages = [msg('1', 'alice', 'Bob'), msg('2', 'Bob', 'alice')];
  store.saveStream('Bob', { cursor: 'c2', messages });
  store.saveReadMarks('Bob', { alice: '2' });
  assert.deepEqual(store.loadStream('bob'), { cursor: 'c2', messages });
  assert.deepEqual(store.loadReadMarks('BOB'), { alice: '2' });
  assert.deepEqual(JSON.parse(shared.getItem(streamKey('bob'))!), { cursor: 'c2', messages });
  assert.deepEqual(JSON.parse(shared.getItem(readKey('bob'))!), { alice: '2' });
  assert.equal(tab.map.size, 0, 'nothing per user in the tab store');
  assert.equal(store.loadStream('alice'), undefined);
  store.forgetStream('BOB');
  assert.equal(store.loadStream('Bob'), undefined);
  assert.deepEqual(store.loadReadMarks('bob'), { alice: '2' }, 'forgetting the stream keeps the read marks');
});

test('a stream copy over the quota is dropped rather than left stale', () => {
  const { shared, store } = stores();
  store.saveStream('bob', { cursor: 'c1', messages: [msg('1', 'alice', 'bob')] });
  shared.quota = 10;
  store.saveStream('bob', { cursor: 'c2', messages: [msg('1', 'alice', 'bob'), msg('2', 'alice', 'bob')] });
  assert.equal(store.loadStream('bob'), undefined);
});

test('trimming keeps the newest messages and the last message of every older conversation, in order', () => {
  const stream = [msg('1', 'carol', 'me'), msg('2', 'dave', 'me'), msg('3', 'me', 'carol'), msg('4', 'alice', 'me'), msg('5', 'me', 'alice'), msg('6', 'Alice', 'me')];
  assert.deepEqual(trimStream(stream, 'me', 2).map((m) => m.id), ['2', '3', '5', '6']);
  assert.deepEqual(trimStream(stream, 'ME', 10).map((m) => m.id), ['1', '2', '3', '4', '5', '6']);
  const long = Array.from({ length: STREAM_KEEP + 50 }, (_, i) => msg(String(i + 1), 'alice', 'me'));
  const { store } = stores();
  store.saveStream('me', { cursor: 'c', messages: long });
  const saved = store.loadStream('me')!;
  assert.equal(saved.messages.length, STREAM_KEEP);
  assert.equal(saved.messages.at(-1)!.id, String(STREAM_KEEP + 50));
});

test('group messages (no recipient, a conversation id) are kept and trimmed per group', () => {
  const g = (id: string, group: string, from = 'alice'): ChatMessage => ({ id, conversationId: group, from, text: `t${id}`, createdAt: new Date(Number(id) * 1000).toISOString() });
  const system = { ...g('4', 'g:2'), kind: 'system' as const, event: 'member_added' as const, users: [{ id: 'u1', username: 'me' }] };
  const stream = [g('1', 'g:1'), g('2', 'g:2'), g('3', 'g:1', 'me'), system, msg('5', 'bob', 'me')];
  assert.deepEqual(trimStream(stream, 'me', 2).map((m) => m.id), ['3', '4', '5']);
  const { store } = stores();
  store.saveStream('me', { cursor: 'c', messages: stream });
  assert.deepEqual(store.loadStream('me')?.messages, stream);
  const { shared, store: other } = stores();
  shared.setItem(streamKey('me'), JSON.stringify({ cursor: 'c', messages: [{ id: '1', from: 'a', text: 't', createdAt: 'x' }] }));
  assert.equal(other.loadStream('me'), undefined, 'neither a recipient nor a conversation: not a message');
});
