import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@chat/common/config';
import { loadChatConfig } from './config.js';

const required = { MONGO_URL: 'mongodb://127.0.0.1:27017', AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' };

test('defaults match the env contract', () => {
  const c = loadChatConfig(required);
  assert.equal(c.PORT, 5002);
  assert.equal(c.MONGO_DB, 'chat');
  assert.equal(c.AUTH_URL, 'http://127.0.0.1:5001');
  assert.equal(c.JWT_ISSUER, 'chat-auth');
  assert.equal(c.JWT_AUDIENCE, 'chat');
  assert.equal(c.BODY_LIMIT_BYTES, 16384);
  assert.equal(c.SHUTDOWN_GRACE_MS, 10000);
  assert.equal(c.MONGO_TIMEOUT_MS, 2000);
  assert.equal(c.OUTBOX_RELAY_DELAY_MS, 2000);
  assert.equal(c.PUBLISH_BATCH_MAX, 500);
  assert.equal(c.RECEIPTS_MAX_MEMBERS, 100);
  assert.equal(c.CHAT_TEST_CRASH_POINT, undefined);
  assert.deepEqual(c.CORS_ORIGINS, []);
});

test('a missing or malformed variable names itself', () => {
  assert.throws(() => loadChatConfig({ AMQP_URL: required.AMQP_URL }), (err: unknown) => err instanceof ConfigError && err.variable === 'MONGO_URL');
  assert.throws(() => loadChatConfig({ ...required, AMQP_URL: 'http://x' }), (err: unknown) => err instanceof ConfigError && err.variable === 'AMQP_URL');
  assert.throws(() => loadChatConfig({ ...required, MONGO_URL: 'postgres://x' }), (err: unknown) => err instanceof ConfigError && err.variable === 'MONGO_URL');
  assert.throws(() => loadChatConfig({ ...required, PUBLISH_BATCH_MAX: '0' }), (err: unknown) => err instanceof ConfigError && err.variable === 'PUBLISH_BATCH_MAX');
  assert.throws(() => loadChatConfig({ ...required, RECEIPTS_MAX_MEMBERS: '1' }), (err: unknown) => err instanceof ConfigError && err.variable === 'RECEIPTS_MAX_MEMBERS');
  assert.throws(() => loadChatConfig({ ...required, CORS_ORIGINS: '*' }), (err: unknown) => err instanceof ConfigError && err.variable === 'CORS_ORIGINS');
});

test('CORS_ORIGINS lists exact origins', () => {
  assert.deepEqual(loadChatConfig({ ...required, CORS_ORIGINS: 'http://127.0.0.1:5000,https://chat.example.com' }).CORS_ORIGINS, ['http://127.0.0.1:5000', 'https://chat.example.com']);
});
