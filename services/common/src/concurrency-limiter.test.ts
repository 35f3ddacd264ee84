import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimiter } from './concurrency-limiter.js';

test('at most `max` tasks run at once, the rest in arrival order; a freed slot goes to the longest waiter, not to a newcomer', async () => {
  const limiter = new ConcurrencyLimiter(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: Array<() => void> = [];
  const task = (i: number) => () =>
    new Promise<void>((resolve) => {
      started.push(i);
      peak = Math.max(peak, ++running);
      releases.push(() => (running--, resolve()));
    });
  const runs = [0, 1, 2, 3].map((i) => limiter.run(task(i)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  releases.shift()!();
  // A newcomer arriving in the same tick as the release waits behind the queued ones.
  runs.push(limiter.run(task(4)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(peak, 2);
  while (releases.length > 0) {
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(runs);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(limiter.busy, false);
  await limiter.idle();
});
