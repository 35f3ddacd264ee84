import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SocketRegistry } from './socket-registry.js';
import type { GatewaySocket } from './socket-state.js';

const socket = (userId: string) => {
  const state = { user: { id: userId } };
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
});
