import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, env, loadConfig, serviceSecretSpec } from './env-config.js';

const spec = {
  PORT: env.int({ default: 5001, min: 1, max: 65535 }),
  MONGO_URL: env.url({ protocols: ['mongodb', 'mongodb+srv'] }),
  FLAG: env.bool({ default: false }),
  ORIGINS: env.list({ default: [] }),
};

test('parses values, applies defaults and freezes the result', () => {
  const cfg = loadConfig(spec, { MONGO_URL: 'mongodb://127.0.0.1:27017/', FLAG: 'true', ORIGINS: 'a, b,' });
  assert.deepEqual({ ...cfg }, { PORT: 5001, MONGO_URL: 'mongodb://127.0.0.1:27017', FLAG: true, ORIGINS: ['a', 'b'] });
  assert.ok(Object.isFrozen(cfg));
  assert.throws(() => {
    (cfg as { PORT: number }).PORT = 1;
  }, TypeError);
});

test('a missing required variable fails with its name', () => {
  assert.throws(() => loadConfig(spec, {}), (err: unknown) => err instanceof ConfigError && err.variable === 'MONGO_URL' && /MONGO_URL is required/.test(err.message));
});

test('an invalid variable fails with its name and the rule', () => {
  assert.throws(() => loadConfig(spec, { MONGO_URL: 'mongodb://x', PORT: 'abc' }), /PORT must be an integer/);
  assert.throws(() => loadConfig(spec, { MONGO_URL: 'mongodb://x', PORT: '70000' }), /PORT must be <= 65535/);
  assert.throws(() => loadConfig(spec, { MONGO_URL: 'http://x' }), /MONGO_URL must use one of mongodb/);
  assert.throws(() => loadConfig(spec, { MONGO_URL: 'mongodb://x', FLAG: 'maybe' }), /FLAG must be a boolean/);
});

test('the service secret is required in production and must be long', () => {
  const s = { SERVICE_TOKEN_SECRET: serviceSecretSpec() };
  const prev = process.env.NODE_ENV;
  try {
    process.env.NODE_ENV = 'production';
    assert.throws(() => loadConfig(s, {}), /SERVICE_TOKEN_SECRET is required in production/);
    process.env.NODE_ENV = 'development';
    assert.equal(typeof loadConfig(s, {}).SERVICE_TOKEN_SECRET, 'string');
    assert.throws(() => loadConfig(s, { SERVICE_TOKEN_SECRET: 'short' }), /at least 32/);
  } finally {
    process.env.NODE_ENV = prev;
  }
});
