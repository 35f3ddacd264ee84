import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

test('delays double from the base and stop growing at the cap', () => {
  const mid = () => 0.5; // factor 1: no jitter
  assert.deepEqual([0, 1, 2, 3, 4].map((a) => backoffDelay(a, DEFAULT_BACKOFF, mid)), [500, 1000, 2000, 4000, 8000]);
  assert.equal(backoffDelay(20, DEFAULT_BACKOFF, mid), 30_000);
  assert.equal(backoffDelay(1000, DEFAULT_BACKOFF, mid), 30_000);
});

test('jitter spreads each delay over ±50 %', () => {
  assert.equal(backoffDelay(2, DEFAULT_BACKOFF, () => 0), 1000);
  assert.equal(backoffDelay(2, DEFAULT_BACKOFF, () => 0.999999), 3000);
  const draws = new Set(Array.from({ length: 200 }, () => backoffDelay(3)));
  assert.ok(draws.size > 50, 'real randomness gives many different delays');
  for (const d of draws) assert.ok(d >= 2000 && d <= 6000, `${d} within 4000 ±50 %`);
});
