import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, uniqueName } from '@chat/testkit';
import { authStack } from './support.js';

const stack = authStack();

function assertEnvelope(res: { status: number; body: any; text: string }, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.deepEqual(Object.keys(res.body), ['error']);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
}

test('non-JSON content types get 415 on both POST routes', async () => {
  for (const path of ['/register', '/login']) {
    for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'multipart/form-data; boundary=x' }, {}] as Array<Record<string, string>>) {
      const res = await request(`${stack.auth.url}${path}`, { method: 'POST', raw: 'username=alice&password=password1', headers });
      assertEnvelope(res, 415, 'unsupported_media_type');
    }
  }
});

test('bodies over 16 KB get 413', async () => {
  for (const path of ['/register', '/login']) {
    const res = await request(`${stack.auth.url}${path}`, { body: { username: uniqueName('big'), password: 'x'.repeat(17 * 1024) } });
    assertEnvelope(res, 413, 'payload_too_large');
  }
  // Just under the limit is parsed (and then refused by the password rule, not by size).
  const under = await request(`${stack.auth.url}/register`, { body: { username: uniqueName('big'), password: 'x'.repeat(15 * 1024) } });
  assertEnvelope(under, 400, 'invalid_request');
});

test('malformed JSON gets 400 invalid_json; a non-object JSON body gets 400', async () => {
  for (const raw of ['{"username": "alice", ', '{username: alice}', "{'a':1}", '']) {
    const res = await request(`${stack.auth.url}/login`, { method: 'POST', raw, headers: { 'content-type': 'application/json' } });
    assert.ok(res.status === 400, `${JSON.stringify(raw)} → ${res.status}`);
    assert.ok(['invalid_json', 'invalid_request'].includes(res.body.error.code), res.text);
  }
  assertEnvelope(await request(`${stack.auth.url}/login`, { method: 'POST', raw: '{"a":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  assertEnvelope(await request(`${stack.auth.url}/register`, { method: 'POST', raw: '[]', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
  // Strict parsing refuses top-level primitives as malformed.
  for (const raw of ['"alice"', '42', 'null']) {
    const res = await request(`${stack.auth.url}/register`, { method: 'POST', raw, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400, raw);
    assert.ok(['invalid_json', 'invalid_request'].includes(res.body.error.code), res.text);
  }
});

test('unknown routes get 404 in the envelope', async () => {
  assertEnvelope(await request(`${stack.auth.url}/nope`), 404, 'not_found');
  assertEnvelope(await request(`${stack.auth.url}/users`), 404, 'not_found');
  assertEnvelope(await request(`${stack.auth.url}/users/a/b`), 404, 'not_found');
  assertEnvelope(await request(`${stack.auth.url}/nope`, { body: {} }), 404, 'not_found');
});

test('a wrong method on a known route gets 405 with Allow', async () => {
  const cases: Array<[string, string, string]> = [
    ['GET', '/login', 'POST'],
    ['DELETE', '/register', 'POST'],
    ['DELETE', '/users/alice', 'HEAD, GET'],
    ['PUT', '/.well-known/jwks.json', 'HEAD, GET'],
  ];
  for (const [method, path, allow] of cases) {
    const res = await request(`${stack.auth.url}${path}`, { method, ...(method === 'PUT' ? { body: {} } : {}) });
    assertEnvelope(res, 405, 'method_not_allowed');
    assert.equal(res.headers.get('allow'), allow);
  }
});

test('/healthz and /readyz answer on the service port, /metrics on METRICS_PORT only', async () => {
  const health = await request(`${stack.auth.url}/healthz`);
  assert.equal(health.status, 200);
  const ready = await request(`${stack.auth.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.checks.database, true);
  assert.equal((await request(`${stack.auth.url}/metrics`)).status, 404, 'the public port serves no /metrics');
  const metrics = await request(`${stack.auth.metricsUrl}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
  for (const name of ['http_request_duration_seconds_bucket', 'auth_login_attempts_total', 'auth_registrations_total', 'process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds']) {
    assert.match(metrics.text, new RegExp(`^${name}`, 'm'), name);
  }
  // Routes are labelled by template, so user names do not become label values.
  await request(`${stack.auth.url}/users/${uniqueName('label')}`);
  const after = (await request(`${stack.auth.metricsUrl}/metrics`)).text;
  assert.match(after, /route="\/users\/:username"/);
  assert.doesNotMatch(after, /route="\/users\/label_/);
});
