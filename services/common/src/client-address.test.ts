import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey, clientAddress, UNKNOWN_ADDRESS } from './client-address.js';

test('without trusted proxies the TCP peer is the client, whatever X-Forwarded-For says', () => {
  assert.equal(clientAddress('192.0.2.1', undefined, 0), '192.0.2.1');
  assert.equal(clientAddress('192.0.2.1', '198.51.100.7', 0), '192.0.2.1');
  assert.equal(clientAddress(undefined, '198.51.100.7', 0), UNKNOWN_ADDRESS);
});

test('with N trusted proxies the client is the N-th entry from the right; entries left of it are the client\'s own writing', () => {
  // client → ingress (appends the client) → Auth.
  assert.equal(clientAddress('10.0.0.5', '192.0.2.1', 1), '192.0.2.1');
  assert.equal(clientAddress('10.0.0.5', 'forged, 203.0.113.9, 192.0.2.1', 1), '192.0.2.1');
  // client → CDN → ingress → Auth.
  assert.equal(clientAddress('10.0.0.5', '203.0.113.9, 192.0.2.1', 2), '203.0.113.9');
  // Two header lines are one list.
  assert.equal(clientAddress('10.0.0.5', ['203.0.113.9', '192.0.2.1'], 2), '203.0.113.9');
  // Fewer entries than hops: the leftmost, as Koa's maxIpsCount does.
  assert.equal(clientAddress('10.0.0.5', '192.0.2.1', 3), '192.0.2.1');
  // No header, or garbage where our proxy's entry should be: the peer.
  assert.equal(clientAddress('10.0.0.5', undefined, 1), '10.0.0.5');
  assert.equal(clientAddress('10.0.0.5', 'not-an-address', 1), '10.0.0.5');
  assert.equal(clientAddress('10.0.0.5', ' , ', 1), '10.0.0.5');
});

test('an address is reduced to what one client controls', () => {
  assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
  // uWS gives IPv4 peers of its dual-stack socket in the long IPv4-mapped form.
  assert.equal(addressKey('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
  assert.equal(addressKey('0000:0000:0000:0000:0000:ffff:c0a8:0a02'), '192.168.10.2');
  assert.equal(addressKey('::ffff:7f00:2'), '127.0.0.2');
  assert.equal(addressKey('2001:0db8:0000:0001:0000:0000:0000:0001'), '2001:db8:0:1::/64', "uWS's long IPv6 form");
  assert.equal(addressKey('192.0.2.1:8443'), '192.0.2.1');
  assert.equal(addressKey('[2001:db8::1]:443'), '2001:db8:0:0::/64');
  // Every address of one /64 is one client; the next /64 is another.
  assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  for (const bad of ['', 'localhost', '999.1.1.1', '1.2.3', 'unknown', '2001:db8::g']) assert.equal(addressKey(bad), undefined, bad);
});
