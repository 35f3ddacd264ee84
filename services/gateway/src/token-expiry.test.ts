import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewaySocket } from './socket-state.js';
import { TokenExpiry } from './token-expiry.js';

const socket = (name: string) => ({ name }) as unknown as GatewaySocket;

describe('TokenExpiry', () => {
  it('reports a socket once its exp second has begun, not before', () => {
    const expired: unknown[] = [];
    const expiry = new TokenExpiry((ws) => expired.push(ws));
    const now = Math.floor(Date.now() / 1000);
    const a = socket('a');
    const b = socket('b');
    expiry.add(a, now + 2);
    expiry.add(b, now + 3);
    expiry.sweep((now + 1) * 1000 + 999);
    assert.deepEqual(expired, []);
    expiry.sweep((now + 2) * 1000);
    assert.deepEqual(expired, [a]);
    expiry.sweep((now + 10) * 1000);
    assert.deepEqual(expired, [a, b]);
    assert.equal(expiry.size, 0);
  });

  it('forgets removed sockets', () => {
    const expired: unknown[] = [];
    const expiry = new TokenExpiry((ws) => expired.push(ws));
    const now = Math.floor(Date.now() / 1000);
    const a = socket('a');
    expiry.add(a, now + 1);
    expiry.remove(a, now + 1);
    expiry.sweep((now + 5) * 1000);
    assert.deepEqual(expired, []);
  });

  it('reports an already expired token at once', () => {
    const expired: unknown[] = [];
    const expiry = new TokenExpiry((ws) => expired.push(ws));
    const a = socket('a');
    expiry.add(a, Math.floor(Date.now() / 1000) - 1);
    assert.deepEqual(expired, [a]);
  });

  it('fires from its own timer', async () => {
    const expired: unknown[] = [];
    const expiry = new TokenExpiry((ws) => expired.push(ws), 20);
    const a = socket('a');
    expiry.add(a, Math.floor(Date.now() / 1000) + 1);
    expiry.start();
    const deadline = Date.now() + 2500;
    while (expired.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expiry.stop();
    assert.deepEqual(expired, [a]);
  });
});
