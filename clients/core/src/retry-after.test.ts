import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, UnreachableError } from './api.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { retryAfterMs, retryDelay, RetryAfterGate } from './retry-after.ts';

const middle = () => 0.5; // no jitter: the backoff's own step

test('retryAfterMs reads the seconds an ApiError carries, nothing else', () => {
  assert.equal(retryAfterMs(new ApiError(429, 'too_many_requests', 'x', 42)), 42_000);
  assert.equal(retryAfterMs(new ApiError(503, 'unavailable', 'x')), undefined);
  assert.equal(retryAfterMs(new UnreachableError('http://x', 'ECONNREFUSED')), undefined);
});

test('an automatic retry waits the longer of the backoff and Retry-After, past the cap too', () => {
  assert.equal(retryDelay(new UnreachableError('http://x', 'ECONNRESET'), 0, DEFAULT_BACKOFF, middle), 500);
  assert.equal(retryDelay(new ApiError(503, 'unavailable', 'busy', 1), 0, DEFAULT_BACKOFF, middle), 1_250);
  assert.equal(retryDelay(new ApiError(503, 'unavailable', 'busy', 1), 3, DEFAULT_BACKOFF, middle), 4_000);
  // the spread above a long Retry-After is at most half the backoff's cap (15 s), not half of 300 s
  assert.equal(retryDelay(new ApiError(429, 'too_many_attempts', 'x', 300), 20, DEFAULT_BACKOFF, middle), 307_500);
});

test('Retry-After is a floor with jitter above it: never sooner, and clients refused together do not come back together', () => {
  const busy = new ApiError(503, 'unavailable', 'busy', 1);
  assert.equal(retryDelay(busy, 0, DEFAULT_BACKOFF, () => 0), 1_000, 'the least is exactly what the server asked');
  assert.equal(retryDelay(busy, 0, DEFAULT_BACKOFF, () => 0.999_999), 1_500);
  const draws = Array.from({ length: 200 }, () => retryDelay(busy, 0));
  assert.ok(draws.every((d) => d >= 1_000 && d <= 1_500), `within [1 s, 1.5 s]: ${Math.min(...draws)}–${Math.max(...draws)}`);
  const perTenth = new Set(draws.map((d) => Math.floor(d / 100)));
  assert.ok(perTenth.size >= 4, `spread over the half second, not in one instant (${perTenth.size} tenths of a second hit)`);
});

test('the gate holds every name after an address or capacity refusal, until Retry-After has passed', () => {
  let now = 1_000_000;
  const gate = new RetryAfterGate(() => now);
  gate.refused(new ApiError(429, 'too_many_requests', 'slow down', 42), 'alice');
  const held = gate.check('bob');
  assert.ok(held);
  assert.equal(held.code, 'too_many_requests');
  assert.equal(held.retryAfterSeconds, 42);
  now += 40_500;
  assert.equal(gate.check('alice')?.retryAfterSeconds, 2, 'whole seconds left, rounded up');
  now += 1_500;
  assert.equal(gate.check('alice'), undefined);
});

test('a failed-login lockout holds that name only (any case), and a refusal without Retry-After holds nothing', () => {
  let now = 0;
  const gate = new RetryAfterGate(() => now);
  gate.refused(new ApiError(429, 'too_many_attempts', 'locked', 300), 'Mallory');
  assert.equal(gate.check('mallory')?.retryAfterSeconds, 300);
  assert.equal(gate.check('alice'), undefined);
  gate.refused(new ApiError(503, 'unavailable', 'down'), 'alice');
  gate.refused(new ApiError(401, 'invalid_credentials', 'no'), 'alice');
  assert.equal(gate.check('alice'), undefined);
  // The longer of a name's own hold and the address-wide one.
  gate.refused(new ApiError(503, 'unavailable', 'busy', 1), 'alice');
  assert.equal(gate.check('MALLORY')?.code, 'too_many_attempts');
  now = 300_000;
  assert.equal(gate.check('mallory'), undefined);
});
