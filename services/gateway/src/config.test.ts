import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@chat/common/config';
import { loadGatewayConfig } from './config.js';

describe('gateway config', () => {
  it('has the documented defaults', () => {
    const c = loadGatewayConfig({});
    assert.equal(c.PORT, 5003);
    assert.equal(c.AUTH_URL, 'http://127.0.0.1:5001');
    assert.equal(c.CHAT_URL, 'http://127.0.0.1:5002');
    assert.deepEqual(c.ALLOWED_ORIGINS, []);
    assert.equal(c.MAX_FRAMES_PER_SECOND, 50);
    assert.equal(c.REPLAY_LIMIT, 1000);
    assert.equal(c.MAX_FRAME_BYTES, 16384);
    assert.equal(c.POD_NAME, undefined);
  });

  it('parses the origin list', () => {
    assert.deepEqual(loadGatewayConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).ALLOWED_ORIGINS, ['https://a.example', 'https://b.example']);
  });

  for (const [name, value] of [
    ['MAX_FRAMES_PER_SECOND', '0'],
    ['REPLAY_LIMIT', 'lots'],
    ['AMQP_URL', 'http://rabbit'],
    ['CHAT_URL', 'not a url'],
    ['SERVICE_TOKEN_SECRET', 'short'],
  ] as const) {
    it(`names ${name} when it is invalid`, () => {
      assert.throws(() => loadGatewayConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.variable === name);
    });
  }
});
