import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PresenceSignal } from '@chat/common/contracts';
import { PresenceReporter } from './presence-reporter.js';
import { SocketRegistry } from './socket-registry.js';
import type { GatewaySocket } from './socket-state.js';

const socket = (id: string, username: string) => {
  const state = { user: { id, username } };
  return { getUserData: () => state } as unknown as GatewaySocket;
};

function setup() {
  const registry = new SocketRegistry();
  const published: PresenceSignal[] = [];
  const reporter = new PresenceReporter({ pod: 'p1', registry, publish: (s) => published.push(s), flushMs: 50, beatMs: 10_000, now: () => 7 });
  const open = (ws: GatewaySocket) => {
    registry.add(ws);
    reporter.mark(ws.getUserData().user.id, ws.getUserData().user.username);
  };
  const close = (ws: GatewaySocket) => {
    registry.remove(ws);
    reporter.mark(ws.getUserData().user.id, ws.getUserData().user.username);
  };
  return { reporter, published, open, close };
}

test('a user\'s first socket publishes online, the last one closing publishes offline, other devices nothing', () => {
  const { reporter, published, open, close } = setup();
  const a1 = socket('a', 'alice');
  const a2 = socket('a', 'alice');
  open(a1);
  reporter.flush();
  open(a2);
  close(a1);
  reporter.flush();
  close(a2);
  reporter.flush();
  assert.deepEqual(published, [
    { v: 1, kind: 'online', pod: 'p1', user: { id: 'a', username: 'alice' }, at: 7 },
    { v: 1, kind: 'offline', pod: 'p1', user: { id: 'a', username: 'alice' }, at: 7 },
  ]);
});

test('changes within one flush are coalesced per user: a close and reopen publishes nothing', () => {
  const { reporter, published, open, close } = setup();
  const a1 = socket('a', 'alice');
  open(a1);
  reporter.flush();
  close(a1);
  const a2 = socket('a', 'alice');
  open(a2);
  reporter.flush();
  const b = socket('b', 'bob');
  open(b);
  close(b);
  reporter.flush();
  assert.deepEqual(published.map((s) => s.kind), ['online']);
});

test('a beat lists every user held here, and a stop ends with a bye', () => {
  const { reporter, published, open } = setup();
  open(socket('a', 'alice'));
  open(socket('b', 'bob'));
  reporter.beat();
  assert.deepEqual(published.at(-1), { v: 1, kind: 'beat', pod: 'p1', at: 7, users: [['a', 'alice'], ['b', 'bob']] });
  reporter.stop();
  assert.deepEqual(published.at(-1), { v: 1, kind: 'bye', pod: 'p1', at: 7 });
});
