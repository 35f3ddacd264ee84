import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '@chat/common/contracts';
import { createAddressRateLimiter } from './address-rate-limiter.js';

function refusal(fn: () => void): RequestError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RequestError);
    return err;
  }
  assert.fail('expected a 429');
}

test('an address may burst the limit, then gets 429 too_many_requests with the exact Retry-After', () => {
  const clock = { t: 0 };
  const limiter = createAddressRateLimiter({ limit: 3, windowMs: 60_000, what: 'login and registration attempts', now: () => clock.t });
  for (let i = 0; i < 3; i++) limiter.take('192.0.2.1');
  const err = refusal(() => limiter.take('192.0.2.1'));
  assert.equal(err.status, 429);
  assert.equal(err.code, 'too_many_requests');
  // One token every 20 s.
  assert.equal(err.headers['retry-after'], '20');
  assert.match(err.message, /too many login and registration attempts from this address; retry in 20 s/);
  // Another address has its own bucket.
  limiter.take('192.0.2.2');
  // Refused takes spend nothing: after 20 s exactly one more is allowed.
  clock.t = 19_000;
  assert.equal(refusal(() => limiter.take('192.0.2.1')).headers['retry-after'], '1');
  clock.t = 20_000;
  limiter.take('192.0.2.1');
  refusal(() => limiter.take('192.0.2.1'));
});

test('memory stays bounded: full buckets are dropped, and at most maxTracked addresses are held', () => {
  const clock = { t: 0 };
  const limiter = createAddressRateLimiter({ limit: 2, windowMs: 1_000, what: 'x', maxTracked: 100, now: () => clock.t });
  for (let i = 0; i < 1_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(limiter.size, 100);
  // The least recently seen went first: the newest address is still held (its second take is its last).
  limiter.take('10.0.3.231');
  refusal(() => limiter.take('10.0.3.231'));
  // A window later every bucket is full again and the sweep drops them.
  clock.t = 1_000;
  limiter.take('198.51.100.7');
  assert.equal(limiter.size, 1);
});
