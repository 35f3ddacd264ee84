import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createUserDirectory } from './user-directory.js';
import { RequestError } from './errors.js';

// A stand-in for Auth's GET /users/:username. The real route is exercised end to end by the
// chat and gateway integration tests; this one checks caching and coalescing, which those
// cannot observe.
let calls = 0;
let concurrent = 0;
let peakConcurrent = 0;
const server = createServer((req, res) => {
  calls++;
  peakConcurrent = Math.max(peakConcurrent, ++concurrent);
  res.on('finish', () => concurrent--);
  const name = decodeURIComponent(req.url!.split('/').pop()!);
  if (req.headers.authorization !== 'Bearer svc') return void res.writeHead(401).end();
  setTimeout(() => {
    if (name === 'alice') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'id-a', username: 'Alice' }));
    else res.writeHead(404).end('{}');
  }, 20);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
after(() => server.close());
const authUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

test('a burst of lookups for one user makes one request; names are case-insensitive', async () => {
  calls = 0;
  let hits = 0;
  let misses = 0;
  const dir = createUserDirectory({ authUrl, credential: async () => 'svc', onHit: () => hits++, onMiss: () => misses++ });
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => dir.resolve(i % 2 ? 'ALICE' : 'alice')));
  assert.ok(results.every((u) => u?.id === 'id-a' && u.username === 'Alice'));
  assert.equal(calls, 1);
  assert.equal(misses, 1);
  assert.equal(hits, 49, 'the 49 that joined the request under way cost none of their own: hits');
  await dir.resolve('Alice');
  assert.equal(calls, 1);
  assert.equal(hits, 50);
});

test('a look-alike of a name (Kelvin sign, fullwidth, Turkish I, combining mark) is nobody, and asks Auth nothing', async () => {
  calls = 0;
  const dir = createUserDirectory({ authUrl, credential: async () => 'svc' });
  // Under toLowerCase() or NFKC each of these folds onto, or hides, an ASCII spelling; none is a username.
  for (const name of ['\u212Alice', '\uFF41lice', '\u0130lice', 'a\u0301lice', 'ali\u200Bce', 'al']) assert.equal(await dir.resolve(name), null, name);
  assert.equal(calls, 0);
  assert.equal((await dir.resolve('ALICE'))?.id, 'id-a');
});

test('an unknown user resolves to null and is remembered briefly', async () => {
  calls = 0;
  const dir = createUserDirectory({ authUrl, credential: async () => 'svc', negativeTtlMs: 100 });
  assert.equal(await dir.resolve('nobody'), null);
  assert.equal(await dir.resolve('nobody'), null);
  assert.equal(calls, 1);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await dir.resolve('nobody'), null);
  assert.equal(calls, 2);
});

test('an unreachable or failing directory is a 503, not a crash', async () => {
  const down = createUserDirectory({ authUrl: 'http://127.0.0.1:1', credential: async () => 'svc' });
  await assert.rejects(down.resolve('alice'), (e: unknown) => e instanceof RequestError && e.status === 503);
  const refused = createUserDirectory({ authUrl, credential: async () => 'wrong' });
  await assert.rejects(refused.resolve('alice'), (e: unknown) => e instanceof RequestError && e.status === 503);
});

test('lookups of many new names go to Auth a bounded number at a time, and all resolve', async () => {
  calls = 0;
  peakConcurrent = 0;
  const dir = createUserDirectory({ authUrl, credential: async () => 'svc', maxConcurrent: 4 });
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => dir.resolve(`member${i}`)));
  assert.equal(calls, 40);
  assert.ok(results.every((u) => u === null), 'each name answered (404: nobody)');
  assert.equal(peakConcurrent, 4, 'never more than maxConcurrent at once, and the bound was reached');
});
