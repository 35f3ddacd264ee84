/**
 * The per-user and per-address socket caps against real gateway processes: refused at the upgrade
 * with 429 `too_many_connections` (no socket), counted by reason, freed when a socket closes, and
 * X-Forwarded-For believed only with TRUST_PROXY_HOPS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metricValue, startStack, TestClient, waitFor, wsUrl, type RunningService, type Stack } from '@chat/testkit';
import { upgradeStatus } from './support.js';

describe('gateway: connection caps', () => {
  let s: Stack;
  /** Behind one trusted proxy: caps of 2 per user and 3 per address. */
  let proxied: RunningService;
  /** Reached directly: X-Forwarded-For is the client's own claim and is ignored. */
  let direct: RunningService;

  before(async () => {
    s = await startStack({ services: ['auth'] });
    proxied = await s.start('gateway', { env: { MAX_SOCKETS_PER_USER: '2', MAX_SOCKETS_PER_ADDRESS: '3', TRUST_PROXY_HOPS: '1' } });
    direct = await s.start('gateway', { env: { MAX_SOCKETS_PER_USER: '0', MAX_SOCKETS_PER_ADDRESS: '2' } });
  });
  after(() => s?.stop());

  const open = (gw: RunningService, token: string, forwardedFor?: string) =>
    TestClient.open(`${wsUrl(gw.url)}/?token=${token}`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }).then(async (c) => {
      await c.next((f) => f.type === 'ready');
      return c;
    });

  it("refuses a user's socket past MAX_SOCKETS_PER_USER with 429 before any socket exists, and takes one again after a close", async () => {
    const alice = await s.user('cap');
    const rejected0 = await metricValue(proxied, 'gateway_connections_rejected_total', { reason: 'user_limit' });
    // Each from an address of its own, so only the per-user cap can bite.
    const first = await open(proxied, alice.token, '198.51.100.1');
    const second = await open(proxied, alice.token, '198.51.100.2');
    const refused = await upgradeStatus(`${wsUrl(proxied.url)}/?token=${alice.token}`, { 'x-forwarded-for': '198.51.100.3' });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'too_many_connections');
    assert.match(refused.body.error.message, /user/);
    assert.equal(await metricValue(proxied, 'gateway_connections_rejected_total', { reason: 'user_limit' }), rejected0 + 1);
    assert.equal(await metricValue(proxied, 'gateway_open_sockets'), 2, 'the refused upgrade opened nothing');
    // Another user is not affected, and a closed socket frees its place.
    const bob = await s.user('cap');
    (await open(proxied, bob.token, '198.51.100.4')).close();
    first.close();
    await first.closed;
    const again = await waitFor('a place after the close', () => open(proxied, alice.token, '198.51.100.5').catch(() => undefined), 5_000);
    for (const c of [second, again]) c.close();
  });

  it('refuses the socket past MAX_SOCKETS_PER_ADDRESS, counting the address the trusted proxy appended', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => s.user('addr')));
    const rejected0 = await metricValue(proxied, 'gateway_connections_rejected_total', { reason: 'address_limit' });
    // The client wrote 10.9.9.9 itself; the proxy appended 203.0.113.7, the address that counts.
    const held = await Promise.all(users.slice(0, 3).map((u, i) => open(proxied, u.token, `10.9.9.${i}, 203.0.113.7`)));
    const refused = await upgradeStatus(`${wsUrl(proxied.url)}/?token=${users[3]!.token}`, { 'x-forwarded-for': '10.9.9.9, 203.0.113.7' });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'too_many_connections');
    assert.match(refused.body.error.message, /address/);
    assert.equal(await metricValue(proxied, 'gateway_connections_rejected_total', { reason: 'address_limit' }), rejected0 + 1);
    // Another client address behind the same proxy still connects.
    (await open(proxied, users[4]!.token, '203.0.113.8')).close();
    for (const c of held) c.close();
  });

  it('ignores X-Forwarded-For without TRUST_PROXY_HOPS: a client cannot dodge the address cap by claiming addresses', async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => s.user('spoof')));
    const held = [await open(direct, users[0]!.token, '192.0.2.1'), await open(direct, users[1]!.token, '192.0.2.2')];
    const refused = await upgradeStatus(`${wsUrl(direct.url)}/?token=${users[2]!.token}`, { 'x-forwarded-for': '192.0.2.3' });
    assert.equal(refused.status, 429, 'all three came from 127.0.0.1, whatever they claimed');
    for (const c of held) c.close();
  });
});
