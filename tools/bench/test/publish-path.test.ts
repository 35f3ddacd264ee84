/**
 * Scenario 2's measurement against the real broker (it drives Chat's EventPublisher, whose own
 * tests are in services/chat/test/event-publisher.test.ts).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stackEnv } from '@chat/testkit';
import { measurePublishPath } from '../src/scenarios/publish-path.js';

let amqpUrl: string;

before(async () => {
  amqpUrl = (await stackEnv()).env.AMQP_URL!;
});

test('the benchmark drives the same publisher: every message confirmed and consumed', async (t) => {
  const result = await measurePublishPath({ amqpUrl, count: 20_000 });
  assert.equal(result.confirmed, 20_000);
  assert.equal(result.consumed, 20_000);
  t.diagnostic(`confirmed publish path: ${result.msgPerSec} msg/s (${result.count} in ${result.seconds.toFixed(2)} s)`);
});
