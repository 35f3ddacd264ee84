import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PresenceTable, type PresenceChange } from './presence-table.js';
import type { PresenceSignal } from './signals.js';

const alice = { id: 'a1', username: 'alice' };
const bob = { id: 'b1', username: 'bob' };

function setup(opts: { warmupMs?: number } = {}) {
  let clock = 1_000_000;
  const changes: PresenceChange[] = [];
  const table = new PresenceTable({ graceMs: 5_000, timeoutMs: 30_000, warmupMs: opts.warmupMs ?? 0, now: () => clock, onChange: (c) => changes.push(c) });
  const advance = (ms: number) => {
    clock += ms;
    table.tick();
  };
  const signal = (s: Omit<Extract<PresenceSignal, { kind: 'online' | 'offline' }>, 'v' | 'at'>) => table.apply({ v: 1, at: clock, ...s } as PresenceSignal);
  const beat = (pod: string, users: { id: string; username: string }[]) => table.apply({ v: 1, kind: 'beat', pod, at: clock, users: users.map((u) => [u.id, u.username]) });
  return { table, changes, advance, signal, beat, now: () => clock };
}

test('a user is unknown until seen, online with a socket, offline with lastSeen once the grace ran out', () => {
  const { table, changes, advance, signal, now } = setup();
  assert.equal(table.status(alice.id), undefined);
  signal({ kind: 'online', pod: 'A', user: alice });
  assert.deepEqual(changes, [{ user: alice, status: 'online' }]);
  const closedAt = now();
  signal({ kind: 'offline', pod: 'A', user: alice });
  assert.deepEqual(table.status(alice.id), { status: 'online' }, 'still online during the grace');
  advance(4_999);
  assert.equal(changes.length, 1);
  advance(1);
  assert.deepEqual(changes[1], { user: alice, status: 'offline', lastSeen: closedAt });
  assert.deepEqual(table.status(alice.id), { status: 'offline', lastSeen: closedAt });
});

test('a reconnect within the grace, on the same pod or another, announces nothing', () => {
  const { changes, advance, signal } = setup();
  signal({ kind: 'online', pod: 'A', user: alice });
  signal({ kind: 'offline', pod: 'A', user: alice });
  advance(3_000);
  signal({ kind: 'online', pod: 'B', user: alice });
  advance(10_000);
  signal({ kind: 'offline', pod: 'B', user: alice });
  advance(1_000);
  signal({ kind: 'online', pod: 'B', user: alice });
  advance(10_000);
  assert.deepEqual(changes, [{ user: alice, status: 'online' }]);
});

test('two pods holding one user: online once, offline only after both let go', () => {
  const { changes, advance, signal } = setup();
  signal({ kind: 'online', pod: 'A', user: alice });
  signal({ kind: 'online', pod: 'B', user: alice });
  signal({ kind: 'offline', pod: 'A', user: alice });
  advance(6_000);
  assert.equal(changes.length, 1);
  signal({ kind: 'offline', pod: 'B', user: alice });
  advance(6_000);
  assert.deepEqual(changes.map((c) => c.status), ['online', 'offline']);
});

test('a pod not heard from within the timeout is dropped with its users; lastSeen is its last signal', () => {
  const { table, changes, advance, signal, beat, now } = setup();
  signal({ kind: 'online', pod: 'A', user: alice });
  signal({ kind: 'online', pod: 'A', user: bob });
  signal({ kind: 'online', pod: 'B', user: bob }); // bob reconnected elsewhere
  advance(10_000);
  beat('A', [alice, bob]);
  const lastBeat = now();
  for (let i = 0; i < 30; i++) {
    advance(1_000);
    if (i % 10 === 9) beat('B', [bob]);
  }
  assert.equal(changes.length, 2);
  advance(1);
  assert.deepEqual(changes.slice(2), [{ user: alice, status: 'offline', lastSeen: lastBeat }]);
  assert.equal(table.status(bob.id)?.status, 'online');
  assert.equal(table.podCount, 1);
});

test('a stalled process judges no pod by the silence of its own stall', () => {
  const { changes, advance, signal, beat } = setup();
  signal({ kind: 'online', pod: 'A', user: alice });
  advance(31_000); // one tick, 31 s late: A's beats may be waiting unread
  assert.equal(changes.length, 1);
  beat('A', [alice]);
  advance(1_000);
  assert.equal(changes.length, 1, 'A was heard right after the stall');
});

test('a beat repairs a lost online or offline, and a bye starts the grace of its users', () => {
  const { table, changes, advance, beat } = setup();
  beat('A', [alice]);
  assert.deepEqual(changes, [{ user: alice, status: 'online' }]);
  beat('A', []);
  advance(5_000);
  assert.deepEqual(changes.map((c) => c.status), ['online', 'offline']);
  beat('A', [bob]);
  table.apply({ v: 1, kind: 'bye', pod: 'A', at: 1 });
  advance(5_000);
  assert.deepEqual(changes.map((c) => `${c.user.username}:${c.status}`), ['alice:online', 'alice:offline', 'bob:online', 'bob:offline']);
  assert.equal(table.podCount, 0);
});

test('while warming up, users first seen in a beat are taken silently (they were online before this process)', () => {
  const { table, changes, advance, beat, signal } = setup({ warmupMs: 15_000 });
  beat('A', [alice]);
  assert.equal(changes.length, 0);
  assert.equal(table.status(alice.id)?.status, 'online');
  signal({ kind: 'online', pod: 'A', user: bob });
  assert.deepEqual(changes.slice(), [{ user: bob, status: 'online' }], 'an online signal is a change even while warming up');
  advance(15_000);
  beat('A', [alice, bob, { id: 'c1', username: 'carol' }]);
  assert.deepEqual(changes.map((c) => c.user.username), ['bob', 'carol']);
});

test('offline entries beyond the cap are forgotten, oldest first; online ones never', () => {
  let clock = 0;
  const table = new PresenceTable({ graceMs: 0, timeoutMs: 30_000, warmupMs: 0, maxEntries: 2, now: () => clock, onChange: () => undefined });
  const on = (id: string) => table.apply({ v: 1, kind: 'online', pod: 'A', at: clock, user: { id, username: id } });
  const off = (id: string) => table.apply({ v: 1, kind: 'offline', pod: 'A', at: clock, user: { id, username: id } });
  on('x');
  off('x');
  clock++;
  table.tick();
  on('y');
  on('z');
  assert.equal(table.status('x'), undefined);
  assert.equal(table.status('y')?.status, 'online');
  assert.equal(table.status('z')?.status, 'online');
});
