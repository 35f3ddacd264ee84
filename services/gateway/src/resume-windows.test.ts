import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResumeWindows } from './resume-windows.js';

function setup(windowMs = 500) {
  let now = 1_000;
  const ended: string[] = [];
  const windows = new ResumeWindows<string>({ windowMs, onEnd: (item) => ended.push(item), now: () => now, useTimer: false });
  return { windows, ended, at: (t: number) => (now = t) };
}

describe('ResumeWindows', () => {
  it('ends each window windowMs after it opened, oldest first, and not before', () => {
    const { windows, ended, at } = setup();
    windows.open('a');
    at(1_100);
    windows.open('b');
    windows.open('c');
    windows.expire(1_499);
    assert.deepEqual(ended, []);
    windows.expire(1_500);
    assert.deepEqual(ended, ['a']);
    assert.equal(windows.pending, 2);
    windows.expire(1_600);
    assert.deepEqual(ended, ['a', 'b', 'c']);
    assert.equal(windows.pending, 0);
  });

  it('keeps working after the queue emptied and after it was compacted', () => {
    const { windows, ended, at } = setup(10);
    for (let i = 0; i < 3_000; i++) {
      at(1_000 + i);
      windows.open(`w${i}`);
      windows.expire();
    }
    assert.equal(ended.length, 2_990);
    assert.equal(ended[0], 'w0');
    assert.equal(ended.at(-1), 'w2989');
    windows.expire(10_000);
    assert.equal(ended.length, 3_000);
    at(20_000);
    windows.open('late');
    windows.expire(20_010);
    assert.equal(ended.at(-1), 'late');
  });

  it('runs one timer for many windows and ends them on it', async () => {
    const ended: number[] = [];
    const windows = new ResumeWindows<number>({ windowMs: 20, granularityMs: 5, onEnd: (i) => ended.push(i) });
    const openedAt = performance.now();
    for (let i = 0; i < 100; i++) windows.open(i);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(ended, []);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(ended.length, 100);
    assert.deepEqual(ended.slice(0, 3), [0, 1, 2]);
    assert.ok(performance.now() - openedAt >= 20);
    windows.stop();
  });
});
