import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoNetworkError, MongoServerError, type Collection } from 'mongodb';
import { createMissingIndexes, indexesOnce, type IndexSpec } from './mongo-indexes.js';

/** A collection that records the index commands it gets, one at a time or not. */
function fakeCollection(opts: { existing?: string[]; failures?: unknown[]; log?: string[] } = {}) {
  const names = new Set(opts.existing ?? []);
  const failures = [...(opts.failures ?? [])];
  const log = opts.log ?? [];
  let busy = 0;
  const step = async <T>(what: string, fn: () => T): Promise<T> => {
    assert.equal(busy++, 0, `${what} while another index command runs`);
    log.push(what);
    await new Promise((r) => setTimeout(r, 2));
    busy--;
    const failure = failures.shift();
    if (failure) throw failure;
    return fn();
  };
  const collection = {
    listIndexes: () => ({ toArray: () => step('list', () => [...names].map((name) => ({ name }))) }),
    createIndex: (key: unknown, options: { name: string }) => step(`create ${options.name}`, () => (names.add(options.name), options.name)),
    createIndexes: () => assert.fail('one createIndexes with several indexes panics FerretDB v1.24'),
  };
  return { collection: collection as unknown as Collection, log, names };
}

const specs: IndexSpec[] = [
  { key: { a: 1 }, name: 'a', unique: true },
  { key: { b: 1, c: -1 }, name: 'b_c' },
];

test('only the missing indexes are created, one createIndex each, in order', async () => {
  const fresh = fakeCollection();
  await createMissingIndexes(fresh.collection, specs);
  assert.deepEqual(fresh.log, ['list', 'create a', 'create b_c']);

  const restarted = fakeCollection({ existing: ['_id_', 'a', 'b_c'] });
  await createMissingIndexes(restarted.collection, specs);
  assert.deepEqual(restarted.log, ['list'], 'existing indexes are never created again');

  const half = fakeCollection({ existing: ['b_c'] });
  await createMissingIndexes(half.collection, specs);
  assert.deepEqual(half.log, ['list', 'create a']);
});

test('no collection yet (NamespaceNotFound) means every index is missing', async () => {
  const fake = fakeCollection({ failures: [new MongoServerError({ message: 'ns does not exist', code: 26 })] });
  await createMissingIndexes(fake.collection, specs);
  assert.deepEqual(fake.log, ['list', 'create a', 'create b_c']);
});

test('a dropped connection is retried from the listing; other errors are not', async () => {
  const dropped = fakeCollection({ failures: [undefined, undefined, new MongoNetworkError('connection closed')] });
  await createMissingIndexes(dropped.collection, specs);
  assert.deepEqual(dropped.log, ['list', 'create a', 'create b_c', 'list', 'create b_c'], 'the second listing finds the first index');

  const refused = fakeCollection({ failures: [new MongoServerError({ message: 'not authorized', code: 13 })] });
  await assert.rejects(createMissingIndexes(refused.collection, specs), /not authorized/);
  assert.deepEqual(refused.log, ['list']);

  const down = fakeCollection({ failures: Array.from({ length: 10 }, () => new MongoNetworkError('down')) });
  await assert.rejects(createMissingIndexes(down.collection, specs), /down/);
  assert.deepEqual(down.log, ['list', 'list', 'list', 'list'], 'four tries, then the error');
});

test('index creations of one process never overlap, across collections too', async () => {
  const log: string[] = [];
  const one = fakeCollection({ log });
  const two = fakeCollection({ log, failures: [new MongoServerError({ message: 'boom', code: 1 })] });
  const three = fakeCollection({ log });
  const results = await Promise.allSettled([createMissingIndexes(one.collection, specs), createMissingIndexes(two.collection, specs), createMissingIndexes(three.collection, specs)]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'], 'a failure does not stop the ones queued after it');
  // fakeCollection asserts that no command starts while another runs (they share the log here).
  assert.deepEqual(log, ['list', 'create a', 'create b_c', 'list', 'list', 'create a', 'create b_c']);
});

test('indexesOnce: created once for every caller; a failure is forgotten and the next call retries', async () => {
  const fake = fakeCollection({ failures: [new MongoServerError({ message: 'boom', code: 1 })] });
  const ensureIndexes = indexesOnce(fake.collection, specs);
  await assert.rejects(Promise.all([ensureIndexes(), ensureIndexes()]), /boom/);
  assert.deepEqual(fake.log, ['list'], 'concurrent callers share one attempt');
  await Promise.all([ensureIndexes(), ensureIndexes()]);
  await ensureIndexes();
  assert.deepEqual(fake.log, ['list', 'list', 'create a', 'create b_c']);
  assert.deepEqual([...fake.names].sort(), ['a', 'b_c']);
});
