import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

const logger = createLogger({ service: 't', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

test('shutdown sets closing first, runs steps in order once, and survives a failing step', async () => {
  const lc = new Lifecycle(logger, 5_000);
  const seen: string[] = [];
  lc.onShutdown('a', () => {
    seen.push(`a:${lc.closing}`);
  });
  lc.onShutdown('b', () => {
    throw new Error('b failed');
  });
  lc.onShutdown('c', async () => {
    seen.push('c');
  });
  await Promise.all([lc.shutdown(), lc.shutdown()]);
  assert.deepEqual(seen, ['a:true', 'c']);
});
