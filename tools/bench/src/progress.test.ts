import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressLine } from './progress.js';

test('the progress line shows rate, connections and p99 so far', () => {
  assert.equal(ProgressLine.format('ours @5000/s', 3.2, { rate: 4987.4, connections: 10_000, p99Ms: 12.345 }), 'ours @5000/s 3s | rate 4,987/s | conns 10,000 | p99 12.3 ms');
  assert.equal(ProgressLine.format('x', 0, { p99Ms: NaN, extra: 'warming' }), 'x 0s | p99 - ms | warming');
});
