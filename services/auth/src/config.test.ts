import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@chat/common/config';
import { loadAuthConfig } from './config.js';

const base = { MONGO_URL: 'mongodb://127.0.0.1:27017' };

test('defaults follow the env contract', () => {
  const c = loadAuthConfig(base);
  assert.equal(c.PORT, 5001);
  assert.equal(c.MONGO_DB, 'chat_auth');
  assert.equal(c.MONGO_TIMEOUT_MS, 5000);
  assert.equal(c.JWT_TTL_SECONDS, 3600);
  assert.equal(c.BCRYPT_COST, 12);
  assert.equal(c.LOGIN_MAX_FAILURES, 10);
  assert.equal(c.LOGIN_FAILURE_WINDOW_SECONDS, 300);
  // The abuse limits' production defaults (the test stacks open them wide explicitly).
  assert.equal(c.LOGIN_DELAY_AFTER_FAILURES, 10);
  assert.equal(c.LOGIN_DELAY_MAX_SECONDS, 300);
  assert.equal(c.LOGIN_KNOWN_ADDRESS_DAYS, 30);
  assert.equal(c.ADDRESS_ATTEMPTS_PER_MINUTE, 30);
  assert.equal(c.ADDRESS_REGISTRATIONS_PER_HOUR, 10);
  assert.equal(c.BCRYPT_MAX_CONCURRENT, 4);
  assert.equal(c.BCRYPT_MAX_QUEUED, 32);
  assert.equal(c.TRUST_PROXY_HOPS, 0);
  assert.equal(c.BODY_LIMIT_BYTES, 16 * 1024);
  assert.equal(c.SHUTDOWN_GRACE_MS, 10_000);
  assert.equal(c.SHUTDOWN_DELAY_MS, 0);
  assert.equal(c.JWT_ISSUER, 'chat-auth');
  assert.equal(c.JWT_AUDIENCE, 'chat');
  assert.equal(c.JWT_PRIVATE_KEY, undefined);
  assert.equal(c.JWT_PREVIOUS_PUBLIC_KEY, undefined);
  assert.deepEqual(c.CORS_ORIGINS, []);
  assert.ok(Object.isFrozen(c));
});

test('MONGO_URL is required: a ConfigError names it', () => {
  assert.throws(() => loadAuthConfig({}), (err: unknown) => err instanceof ConfigError && err.variable === 'MONGO_URL' && /required/.test(err.message));
  assert.throws(() => loadAuthConfig({ MONGO_URL: 'http://x' }), (err: unknown) => err instanceof ConfigError && err.variable === 'MONGO_URL');
});

test('replica-set and SRV connection strings are accepted', () => {
  assert.equal(loadAuthConfig({ MONGO_URL: 'mongodb://a:27017,b:27017/?replicaSet=rs0' }).MONGO_URL, 'mongodb://a:27017,b:27017/?replicaSet=rs0');
  assert.equal(loadAuthConfig({ MONGO_URL: 'mongodb+srv://cluster.example.com/' }).MONGO_URL, 'mongodb+srv://cluster.example.com/');
});

test('numeric settings are range-checked', () => {
  for (const [name, value] of [['BCRYPT_COST', '3'], ['BCRYPT_COST', '32'], ['BCRYPT_COST', 'twelve'], ['LOGIN_MAX_FAILURES', '0'], ['JWT_TTL_SECONDS', '0'], ['PORT', '70000']] as const) {
    assert.throws(() => loadAuthConfig({ ...base, [name]: value }), (err: unknown) => err instanceof ConfigError && err.variable === name, `${name}=${value}`);
  }
  assert.equal(loadAuthConfig({ ...base, BCRYPT_COST: '4' }).BCRYPT_COST, 4);
});

test('CORS_ORIGINS lists exact origins; a wildcard or a page URL names the variable', () => {
  assert.deepEqual(loadAuthConfig({ ...base, CORS_ORIGINS: 'http://127.0.0.1:5000, https://chat.example.com' }).CORS_ORIGINS, ['http://127.0.0.1:5000', 'https://chat.example.com']);
  for (const bad of ['*', 'https://chat.example.com/app']) {
    assert.throws(() => loadAuthConfig({ ...base, CORS_ORIGINS: bad }), (err: unknown) => err instanceof ConfigError && err.variable === 'CORS_ORIGINS', bad);
  }
});
