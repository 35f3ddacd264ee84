/**
 * Chat's last-seen writes (src/presence.ts) against the real database, cut away through a TCP
 * relay: while the database fails they retry with a growing wait instead of every flush, keep
 * the times they could not store, and store them once the database answers again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { Registry } from 'prom-client';
import { createLogger } from '@chat/common/config';
import { sleep, stackEnv, waitFor } from '@chat/testkit';
import { createChatMetrics } from '../src/chat-metrics.js';
import { createLastSeenRepository, LAST_SEEN_COLLECTION, type LastSeenRepository } from '../src/last-seen-repo.js';
import { Presence } from '../src/presence.js';
import { tcpRelay } from './tcp-relay.js';

const logger = createLogger({ service: 'chat-test', level: 'silent' });

test('last-seen writes back off while the database fails, and store what waited once it answers', async () => {
  const { env } = await stackEnv();
  const relay = await tcpRelay(env.MONGO_URL!);
  // Fails fast (100 ms server selection): the test sees the pacing, not the driver's timeouts.
  const client = new MongoClient(relay.url, { serverSelectionTimeoutMS: 100, connectTimeoutMS: 100 });
  const db = client.db(`t_lastseen_${randomBytes(4).toString('hex')}`);
  try {
    const real = createLastSeenRepository(db);
    const writes: number[] = [];
    const lastSeen: LastSeenRepository = { ...real, record: (batch) => (writes.push(Date.now()), real.record(batch)) };
    const metrics = createChatMetrics(new Registry());
    const presence = new Presence({ lastSeen, metrics, logger, graceMs: 0, timeoutMs: 30_000, warmupMs: 0, flushMs: 250, random: () => 0.5 });
    presence.start();
    const goOffline = (id: string) => {
      const user = { id, username: `user_${id}` };
      presence.handle({ v: 1, kind: 'online', pod: 'pod-a', user, at: Date.now() });
      presence.handle({ v: 1, kind: 'offline', pod: 'pod-a', user, at: Date.now() });
    };

    goOffline('u1');
    await waitFor('u1 stored', async () => (await db.collection(LAST_SEEN_COLLECTION).countDocuments({ _id: 'u1' as never })) === 1, 5_000, 50);

    relay.cut();
    goOffline('u2');
    const cutAt = Date.now();
    await sleep(3_500);
    const failing = writes.filter((t) => t >= cutAt);
    // Every 250 ms that would be about 10 tries; with the backoff (1 s, then 2 s) it is 2 or 3.
    assert.ok(failing.length >= 2 && failing.length <= 3, `${failing.length} tries in 3.5 s while the database failed`);
    const failed = (await metrics.backgroundDelays.get()).values.find((v) => v.labels.task === 'last_seen' && v.labels.reason === 'failed')?.value;
    assert.equal(failed, failing.length);

    await relay.restore();
    await waitFor('u2 stored after the outage', async () => (await db.collection(LAST_SEEN_COLLECTION).countDocuments({ _id: 'u2' as never })) === 1, 10_000, 100);
    // One success and the pace is back to every flush.
    const restoredAt = Date.now();
    goOffline('u3');
    await waitFor('u3 stored at the normal pace', async () => (await db.collection(LAST_SEEN_COLLECTION).countDocuments({ _id: 'u3' as never })) === 1, 2_000, 50);
    assert.ok(Date.now() - restoredAt < 2_000);
    await presence.stop();
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
    await relay.close();
  }
});
