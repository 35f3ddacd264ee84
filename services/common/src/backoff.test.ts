import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay, type BackoffPolicy } from './backoff.js';

const POLICY: BackoffPolicy = { baseMs: 1_000, capMs: 30_000, jitter: 0.5 };
const middle = () => 0.5; // factor 1: the nominal delay

test('delays double from the base and stop growing at the cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, POLICY, middle)), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  assert.equal(backoffDelay(1_000, POLICY, middle), 30_000, 'no overflow far past the cap');
});

test('jitter spreads each delay over [50 %, 150 %] of its nominal value', () => {
  assert.equal(backoffDelay(2, POLICY, () => 0), 2_000);
  assert.equal(backoffDelay(2, POLICY, () => 0.999_999), 6_000);
  assert.equal(backoffDelay(9, POLICY, () => 0.999_999), 45_000, 'the cap is the nominal delay; jitter applies on top of it');
  const draws = new Set(Array.from({ length: 200 }, () => backoffDelay(3, POLICY)));
  assert.ok(draws.size > 50, 'real randomness gives many different delays');
  for (const d of draws) assert.ok(d >= 4_000 && d <= 12_000, `${d} within 8000 ±50 %`);
});

test('a streak of failures grows the wait; one quick success starts over from the base', () => {
  const backoff = new Backoff(POLICY, middle);
  assert.deepEqual([backoff.failed(), backoff.failed(), backoff.failed()], [1_000, 2_000, 4_000]);
  assert.equal(backoff.streak, 3);
  backoff.succeeded();
  assert.equal(backoff.streak, 0);
  assert.equal(backoff.failed(), 1_000);
});
