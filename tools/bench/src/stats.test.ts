import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketOf, bucketUpperMs, LatencyHistogram, percentileOf, round3, slope } from './stats.js';

test('a recorded value lands in a bucket whose upper edge is within 2 % above it', () => {
  for (const v of [0.02, 0.5, 1, 3.3, 49.9, 50, 1234, 60_000]) {
    const upper = bucketUpperMs(bucketOf(v));
    assert.ok(upper >= v * 0.9999, `${v} → ${upper}`);
    assert.ok(upper <= v * 1.0201, `${v} → ${upper}`);
  }
});

test('percentiles of a histogram match exact nearest-rank percentiles within bucket precision', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => 0.1 + ((i * 7919) % 10_000) / 100); // 0.1 … 100 ms, shuffled
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = percentileOf(values, p);
    const approx = h.percentile(p);
    assert.ok(approx >= exact && approx <= exact * 1.021, `p${p}: exact ${exact}, histogram ${approx}`);
  }
  assert.equal(h.count, 10_000);
  assert.equal(h.max, Math.max(...values));
});

test('the percentile never reports more than the maximum seen', () => {
  const h = new LatencyHistogram();
  h.record(10);
  assert.equal(h.percentile(99), 10);
});

test('merging snapshots equals recording everything in one histogram', () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) {
    (i % 3 ? a : b).record(i / 10);
    all.record(i / 10);
  }
  const merged = LatencyHistogram.from([a.snapshot(), b.snapshot()]);
  assert.equal(merged.count, all.count);
  assert.equal(merged.max, all.max);
  for (const p of [1, 50, 99]) assert.equal(merged.percentile(p), all.percentile(p));
});

test('negative latencies are counted apart and recorded as zero', () => {
  const h = new LatencyHistogram();
  h.record(-3);
  h.record(5);
  assert.equal(h.negative, 1);
  assert.equal(h.percentile(50), bucketUpperMs(0));
});

test('an empty histogram has no percentile', () => {
  assert.ok(Number.isNaN(new LatencyHistogram().percentile(99)));
  assert.ok(Number.isNaN(percentileOf([], 50)));
});

test('slope is the least-squares fit (RSS bytes per socket)', () => {
  assert.equal(slope([{ x: 0, y: 100 }, { x: 1000, y: 2_100 }, { x: 2000, y: 4_100 }]), 2);
  assert.ok(Math.abs(slope([{ x: 0, y: 0 }, { x: 1, y: 1.1 }, { x: 2, y: 1.9 }]) - 0.95) < 1e-9);
  assert.ok(Number.isNaN(slope([{ x: 1, y: 1 }])));
});

test('round3 keeps three significant digits', () => {
  assert.equal(round3(12345.6), 12346);
  assert.equal(round3(1.23456), 1.23);
  assert.equal(round3(0.0123456), 0.0123);
});
