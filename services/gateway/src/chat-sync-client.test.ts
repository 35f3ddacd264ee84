/**
 * The sync client's reading of Chat's answers, against a local HTTP server that answers as Chat
 * does when it sheds (503 with Retry-After), fails (500), hangs or is gone: what a replay may
 * try again, and after how long at least.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createChatSyncClient, parseRetryAfter, SyncError } from './chat-sync-client.js';

let server: Server;
let base: string;
/** What the server answers next: status and headers, or 'hang'. */
let answer: { status: number; headers?: Record<string, string>; body?: string } | 'hang' = { status: 200 };

before(async () => {
  server = createServer((req, res) => {
    if (answer === 'hang') return; // never answered: the client's timeout ends it
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
    res.end(answer.body ?? '{"error":{"code":"unavailable","message":"busy"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function failure(read: Promise<unknown>): Promise<SyncError> {
  const err = await read.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof SyncError, `a SyncError, got ${String(err)}`);
  return err;
}

describe('chat sync client', () => {
  it('a 503 with Retry-After is a shed read, to retry no sooner than Chat said', async () => {
    answer = { status: 503, headers: { 'retry-after': '2' } };
    const err = await failure(createChatSyncClient({ chatUrl: base })('t', 'c', 10));
    assert.deepEqual([err.kind, err.transient, err.retryAfterMs], ['unavailable', 'shed', 2_000]);
  });

  it('a 502 or 504 from a proxy is shed too; a 500 is not transient (a bug is not retried)', async () => {
    for (const status of [502, 504]) {
      answer = { status };
      assert.equal((await failure(createChatSyncClient({ chatUrl: base })('t', 'c', 10))).transient, 'shed');
    }
    answer = { status: 500 };
    const err = await failure(createChatSyncClient({ chatUrl: base })('t', 'c', 10));
    assert.deepEqual([err.kind, err.transient], ['unavailable', undefined]);
  });

  it('no answer in time is a timeout; a port where nothing listens is unreachable', async () => {
    answer = 'hang';
    const slow = await failure(createChatSyncClient({ chatUrl: base, timeoutMs: 200 })('t', 'c', 10));
    assert.equal(slow.transient, 'timeout');
    const gone = await failure(createChatSyncClient({ chatUrl: 'http://127.0.0.1:9' })('t', 'c', 10));
    assert.equal(gone.transient, 'unreachable');
  });

  it('400 and 401 keep their meaning and are never retried', async () => {
    answer = { status: 400 };
    const bad = await failure(createChatSyncClient({ chatUrl: base })('t', 'c', 10));
    assert.deepEqual([bad.kind, bad.transient], ['invalid_cursor', undefined]);
    answer = { status: 401 };
    const denied = await failure(createChatSyncClient({ chatUrl: base })('t', 'c', 10));
    assert.deepEqual([denied.kind, denied.transient], ['unauthorized', undefined]);
  });

  it('Retry-After: delay-seconds or an HTTP date; anything else is ignored', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    assert.equal(parseRetryAfter('1', now), 1_000);
    assert.equal(parseRetryAfter(' 30 ', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 12:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 11:59:00 GMT', now), 0, 'a date in the past: no wait');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-1', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});
