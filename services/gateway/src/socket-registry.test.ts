import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SocketRegistry } from './socket-registry.js';
import type { GatewaySocket } from './socket-state.js';

const socket = (userId: string, opts: { username?: string; exp?: number } = {}) => {
  const state = { user: { id: userId, username: opts.username ?? `name-${userId}` }, exp: opts.exp ?? 100 };
  return { getUserData: () => state } as unknown as GatewaySocket;
};

describe('SocketRegistry', () => {
  it('indexes sockets by user id and counts them', () => {
    const registry = new SocketRegistry();
    const a1 = socket('a');
    const a2 = socket('a');
    const b1 = socket('b');
    registry.add(a1);
    registry.add(a2);
    registry.add(a2);
    registry.add(b1);
    assert.equal(registry.size, 3);
    assert.deepEqual([...registry.socketsOf('a')!], [a1, a2]);
    registry.remove(a1);
    registry.remove(a1);
    assert.equal(registry.size, 2);
    registry.remove(a2);
    assert.equal(registry.socketsOf('a'), undefined);
    assert.deepEqual(registry.all(), [b1]);
  });

  it("keeps one token per user, the newest-expiring, until the user's last socket closes", () => {
    const registry = new SocketRegistry();
    const early = socket('a', { exp: 100 });
    const late = socket('a', { exp: 300 });
    const middle = socket('a', { exp: 200 });
    registry.add(early, 'token-100');
    assert.equal(registry.tokenOf('a'), 'token-100');
    registry.add(late, 'token-300');
    registry.add(middle, 'token-200');
    assert.equal(registry.tokenOf('a'), 'token-300');
    // The socket that brought it closes: the token stays valid for the others (they expire sooner).
    registry.remove(late);
    assert.equal(registry.tokenOf('a'), 'token-300');
    registry.remove(early);
    registry.remove(middle);
    assert.equal(registry.tokenOf('a'), undefined);
    assert.equal(registry.tokenOf('nobody'), undefined);
  });

  it('keeps its own copy of a token taken from a longer string', () => {
    const registry = new SocketRegistry();
    const query = `token=${'x'.repeat(300)}&since=abc`;
    const token = new URLSearchParams(query).get('token')!;
    registry.add(socket('a'), token);
    assert.equal(registry.tokenOf('a'), 'x'.repeat(300));
  });

  it("shares one user object between a user's sockets when the usernames agree", () => {
    const registry = new SocketRegistry();
    const a1 = socket('a');
    const a2 = socket('a');
    const renamed = socket('a', { username: 'other' });
    registry.add(a1, 't');
    registry.add(a2, 't');
    registry.add(renamed, 't');
    assert.equal(a2.getUserData().user, a1.getUserData().user);
    assert.notEqual(renamed.getUserData().user, a1.getUserData().user);
    assert.equal(renamed.getUserData().user.username, 'other');
  });
});
