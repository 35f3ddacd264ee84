import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '@chat/common/contracts';
import { createBcryptCapacity } from './bcrypt-capacity.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

test('at most maxConcurrent run, at most maxQueued wait, and the next one gets 503 with Retry-After', async () => {
  const capacity = createBcryptCapacity({ maxConcurrent: 2, maxQueued: 1 });
  const gates = [deferred(), deferred(), deferred()];
  const started: number[] = [];
  const reservations = gates.map(() => capacity.reserve());
  const runs = reservations.map((r, i) => r.run(async () => (started.push(i), await gates[i]!.promise, i)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  assert.equal(capacity.running, 2);
  assert.equal(capacity.reserved, 3);

  const err = (() => {
    try {
      capacity.reserve();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof RequestError);
  assert.equal(err.status, 503);
  assert.equal(err.code, 'unavailable');
  assert.equal(err.headers['retry-after'], '1');

  // A finished hash hands its slot to the one waiting.
  gates[0]!.resolve();
  assert.equal(await runs[0], 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(capacity.running, 2);
  gates[1]!.resolve();
  gates[2]!.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2]);
  assert.equal(capacity.running, 0);

  // Released places are free again; releasing twice frees one place, not two.
  for (const r of reservations) r.release();
  reservations[0]!.release();
  assert.equal(capacity.reserved, 0);
  const again = [capacity.reserve(), capacity.reserve(), capacity.reserve()];
  assert.throws(() => capacity.reserve(), RequestError);
  for (const r of again) r.release();
});

test('a failing hash frees its slot too', async () => {
  const capacity = createBcryptCapacity({ maxConcurrent: 1, maxQueued: 0 });
  const r = capacity.reserve();
  await assert.rejects(r.run(() => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(capacity.running, 0);
  assert.equal(await r.run(async () => 7), 7);
  r.release();
});
