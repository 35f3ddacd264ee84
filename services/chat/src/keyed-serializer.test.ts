import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerializer } from './keyed-serializer.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

test('tasks with one key run one at a time, in order; other keys run alongside', async () => {
  const serializer = new KeyedSerializer();
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const task = (key: string, n: number) =>
    serializer.run(key, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`${key}${n}+`);
      await tick();
      log.push(`${key}${n}-`);
      running--;
      return n;
    });
  const results = await Promise.all([task('a', 1), task('a', 2), task('b', 1), task('a', 3)]);
  assert.deepEqual(results, [1, 2, 1, 3]);
  const a = log.filter((l) => l.startsWith('a'));
  assert.deepEqual(a, ['a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-']);
  assert.equal(maxRunning, 2, 'a and b overlapped');
  assert.equal(serializer.size, 0, 'nothing is retained once done');
});

test('a failing task rejects its caller only; the next task for the key still runs', async () => {
  const serializer = new KeyedSerializer();
  const first = serializer.run('k', async () => {
    throw new Error('boom');
  });
  const second = serializer.run('k', async () => 'ok');
  await assert.rejects(first, /boom/);
  assert.equal(await second, 'ok');
});
