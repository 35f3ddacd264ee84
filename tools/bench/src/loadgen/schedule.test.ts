import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dueSends, scheduleMs } from './schedule.ts';

test('dueSends: one phase is rate × elapsed, floored and capped at its end', () => {
  const one = [{ rate: 100, durationMs: 2_000 }];
  assert.equal(dueSends(one, 0), 0);
  assert.equal(dueSends(one, 9), 0);
  assert.equal(dueSends(one, 10), 1);
  assert.equal(dueSends(one, 1_000), 100);
  assert.equal(dueSends(one, 5_000), 200);
  assert.equal(dueSends(one, -5), 0);
});

test('dueSends: phases run back to back, cumulative across the boundary', () => {
  const phases = [{ rate: 900, durationMs: 20_000 }, { rate: 150, durationMs: 10_000 }];
  assert.equal(scheduleMs(phases), 30_000);
  assert.equal(dueSends(phases, 20_000), 18_000);
  assert.equal(dueSends(phases, 21_000), 18_150);
  assert.equal(dueSends(phases, 30_000), 19_500);
  assert.equal(dueSends(phases, 60_000), 19_500);
  // Fractional rates per phase add up without losing a request at the seam.
  assert.equal(dueSends([{ rate: 3, durationMs: 333.3333333333333 }, { rate: 3, durationMs: 333.3333333333333 }, { rate: 3, durationMs: 333.3333333333334 }], 1_000), 3);
});
