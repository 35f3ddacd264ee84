import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedThrottle } from './keyed-throttle.js';

test('one pass per key per interval; keys are independent', () => {
  let clock = 0;
  const throttle = new KeyedThrottle(3_000, () => clock);
  const passed: number[] = [];
  // 20 frames in one second, then more over the next 6 s: at most one per 3 s passes.
  for (let i = 0; i < 20; i++) {
    clock = i * 50;
    if (throttle.pass('alice|c1')) passed.push(clock);
  }
  for (clock = 1_000; clock <= 7_000; clock += 100) if (throttle.pass('alice|c1')) passed.push(clock);
  assert.deepEqual(passed, [0, 3_000, 6_000]);
  assert.equal(throttle.pass('bob|c1'), true);
  assert.equal(throttle.pass('alice|c2'), true);
});

test('keys whose interval is over are forgotten', () => {
  let clock = 0;
  const throttle = new KeyedThrottle(1_000, () => clock);
  for (let i = 0; i < 100; i++) throttle.pass(`k${i}`);
  assert.equal(throttle.size, 100);
  clock = 1_000;
  throttle.pass('fresh');
  assert.equal(throttle.size, 1);
});
