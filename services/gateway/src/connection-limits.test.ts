import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionLimits } from './connection-limits.ts';

test('refuses the socket past the per-user cap, and the one past the per-address cap', () => {
  const limits = new ConnectionLimits(2, 3);
  assert.equal(limits.refusal(1, 'a'), undefined);
  assert.equal(limits.refusal(2, 'a'), 'user_limit');
  const held = [limits.acquire('a'), limits.acquire('a'), limits.acquire('a')];
  assert.equal(limits.refusal(0, 'a'), 'address_limit');
  assert.equal(limits.refusal(0, 'b'), undefined, 'another address is not affected');
  limits.release(held[0]);
  assert.equal(limits.refusal(0, 'a'), undefined, 'a closed socket frees its place');
});

test("an address's sockets share one counter object, which goes away with the last of them", () => {
  const limits = new ConnectionLimits(0, 10);
  const first = limits.acquire('10.0.0.1');
  const second = limits.acquire('10.0.0.1');
  assert.equal(first, second);
  assert.equal(first!.count, 2);
  assert.equal(limits.addresses, 1);
  limits.release(first);
  limits.release(second);
  assert.equal(limits.addresses, 0);
  limits.release(undefined);
});

test('0 turns a cap off, and then nothing is tracked', () => {
  const limits = new ConnectionLimits(0, 0);
  assert.equal(limits.countsAddresses, false);
  assert.equal(limits.refusal(1_000_000, 'a'), undefined);
  assert.equal(limits.acquire('a'), undefined);
  assert.equal(limits.addresses, 0);
});
