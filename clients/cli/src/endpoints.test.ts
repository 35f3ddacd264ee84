import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './args.ts';
import { DEFAULT_ENDPOINTS, resolveEndpoints } from './endpoints.ts';

const stored = { authUrl: 'http://stored:1', chatUrl: 'http://stored:2', gatewayUrl: 'ws://stored:3' };

test('defaults are make up’s (and port-forward’s) addresses', () => {
  assert.deepEqual(resolveEndpoints({}, {}), DEFAULT_ENDPOINTS);
  assert.deepEqual(DEFAULT_ENDPOINTS, { authUrl: 'http://127.0.0.1:5001', chatUrl: 'http://127.0.0.1:5002', gatewayUrl: 'ws://127.0.0.1:5003' });
});

test('per endpoint: flag, then environment, then the stored session, then the default', () => {
  const env = { CHAT_AUTH_URL: 'http://env:1', CHAT_GATEWAY_URL: 'ws://env:3' };
  assert.deepEqual(resolveEndpoints({ auth: 'http://flag:1' }, env, stored), { authUrl: 'http://flag:1', chatUrl: 'http://stored:2', gatewayUrl: 'ws://env:3' });
  assert.deepEqual(resolveEndpoints({}, { CHAT_CHAT_URL: '' }, undefined), DEFAULT_ENDPOINTS, 'an empty variable counts as unset');
});

test('addresses are normalised; an http gateway address becomes ws', () => {
  assert.deepEqual(resolveEndpoints({ auth: 'https://auth.example/', chat: 'http://h:2/api/', gateway: 'http://h:3' }, {}), {
    authUrl: 'https://auth.example',
    chatUrl: 'http://h:2/api',
    gatewayUrl: 'ws://h:3',
  });
  assert.equal(resolveEndpoints({ gateway: 'https://h' }, {}).gatewayUrl, 'wss://h');
});

test('a bad address is a usage error naming where it came from', () => {
  const bad = (flags: object, env: object, message: RegExp) =>
    assert.throws(() => resolveEndpoints(flags, env as Record<string, string>), (e: unknown) => e instanceof UsageError && message.test(e.message));
  bad({ auth: 'localhost:5001' }, {}, /--auth: "localhost:5001" must start with http:\/\/ or https:\/\//);
  bad({}, { CHAT_CHAT_URL: 'not a url' }, /CHAT_CHAT_URL: "not a url" is not a URL/);
  bad({ gateway: 'ftp://h' }, {}, /--gateway: .* must start with ws:\/\/ or wss:\/\//);
  bad({ chat: 'http://u:p@h:2' }, {}, /plain address/);
  bad({ chat: 'http://h:2/?x=1' }, {}, /plain address/);
});
