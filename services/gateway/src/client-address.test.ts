import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, clientAddress } from './client-address.ts';

test('IPv4 peers of the dual-stack socket read as dotted IPv4', () => {
  assert.equal(addressKey('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
  assert.equal(addressKey('0000:0000:0000:0000:0000:ffff:c0a8:0a02'), '192.168.10.2');
  assert.equal(addressKey('::ffff:7f00:2'), '127.0.0.2');
  assert.equal(addressKey('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(addressKey(' 203.0.113.9 '), '203.0.113.9');
});

test('an IPv6 address counts as its /64, in whatever notation it arrives', () => {
  const key = '2001:db8:0:1::/64';
  assert.equal(addressKey('2001:0db8:0000:0001:0000:0000:0000:0001'), key, "uWS's long form");
  assert.equal(addressKey('2001:DB8:0:1::1'), key);
  assert.equal(addressKey('2001:db8:0:1:ffff:1:2:3'), key, 'another host of the same /64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('not-an-address'), 'not-an-address', 'anything else is its own key');
  assert.equal(addressKey('1::2::3'), '1::2::3');
});

test('without trusted hops X-Forwarded-For is ignored: a client cannot pick the address it is counted against', () => {
  assert.equal(clientAddress('0000:0000:0000:0000:0000:ffff:7f00:0002', '203.0.113.9', 0), '127.0.0.2');
});

test('with n trusted hops the client is the n-th entry from the right; what the client wrote further left is ignored', () => {
  // The client claimed 1.1.1.1; our one proxy appended the address it saw, 203.0.113.9.
  assert.equal(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.9', 1), '203.0.113.9');
  // Two proxies of ours: the outer one appended the client, the inner one appended the outer one.
  assert.equal(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.4', 2), '203.0.113.9');
  // Fewer entries than hops: the leftmost one.
  assert.equal(clientAddress('10.0.0.5', '203.0.113.9', 3), '203.0.113.9');
  // No header at all: the peer.
  assert.equal(clientAddress('10.0.0.5', '', 1), '10.0.0.5');
  assert.equal(clientAddress('10.0.0.5', ' , ', 1), '10.0.0.5');
});
