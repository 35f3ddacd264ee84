// CORS on a real Auth process: what a browser page on another origin (the web client) needs,
// and nothing for any other origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessControlHeaders, assertCorsGranted, assertPreflightGranted, preflight, request, runUntilExit, uniqueName } from '@chat/testkit';
import { authStack } from './support.js';

const PAGE = 'http://127.0.0.1:5000';
const PAGE2 = 'https://chat.example.com';
const OTHER = 'http://127.0.0.1:6666';
const MAX_FAILURES = 2;

// The trailing slash and upper case are how people paste origins; the service normalizes them.
const stack = authStack({ CORS_ORIGINS: `${PAGE}, HTTPS://Chat.Example.com/`, LOGIN_MAX_FAILURES: String(MAX_FAILURES) });

test('preflights from the listed pages are answered 204 with the grant', async () => {
  for (const origin of [PAGE, PAGE2]) {
    for (const [path, method] of [['/register', 'POST'], ['/login', 'POST'], ['/users/alice', 'GET']] as const) {
      await assertPreflightGranted(await preflight(stack.auth.url + path, origin, method), origin, `${origin} ${path}`);
    }
  }
});

test('a preflight from any other origin gets 204 and no CORS header', async () => {
  for (const origin of [OTHER, 'http://localhost:5000', 'null']) {
    const res = await preflight(`${stack.auth.url}/login`, origin, 'POST');
    assert.equal(res.status, 204, origin);
    assert.deepEqual(accessControlHeaders(res.headers), [], origin);
  }
});

test('register and login from a listed page carry the grant', async () => {
  const username = uniqueName('cors');
  const password = 'correct horse battery';
  const reg = await request(`${stack.auth.url}/register`, { body: { username, password }, headers: { origin: PAGE } });
  assert.equal(reg.status, 201, reg.text);
  assertCorsGranted(reg.headers, PAGE);
  const login = await request(`${stack.auth.url}/login`, { body: { username, password }, headers: { origin: PAGE2 } });
  assert.equal(login.status, 200, login.text);
  assert.equal(typeof login.body.token, 'string');
  assertCorsGranted(login.headers, PAGE2);
  const jwks = await request(`${stack.auth.url}/.well-known/jwks.json`, { headers: { origin: PAGE } });
  assert.equal(jwks.status, 200);
  assertCorsGranted(jwks.headers, PAGE);
});

test('error envelopes reach the page with the grant, and a 429 exposes Retry-After', async () => {
  const username = uniqueName('cors');
  const password = 'correct horse battery';
  assert.equal((await request(`${stack.auth.url}/register`, { body: { username, password } })).status, 201);
  const cases: Array<[string, Parameters<typeof request>[1], number, string]> = [
    ['/register', { body: { username, password } }, 409, 'username_taken'],
    ['/register', { body: { username: 'x' } }, 400, 'invalid_request'],
    ['/login', { method: 'POST', raw: 'a=b', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ['/users/alice', {}, 401, 'unauthorized'],
    ['/nope', {}, 404, 'not_found'],
    ['/login', { method: 'GET' }, 405, 'method_not_allowed'],
  ];
  for (const [path, init, status, code] of cases) {
    const res = await request(stack.auth.url + path, { ...init, headers: { ...(init?.headers ?? {}), origin: PAGE } });
    assert.equal(res.status, status, `${path}: ${res.text}`);
    assert.deepEqual(Object.keys(res.body), ['error']);
    assert.equal(res.body.error.code, code);
    assertCorsGranted(res.headers, PAGE);
  }
  for (let i = 0; i < MAX_FAILURES; i++) {
    assert.equal((await request(`${stack.auth.url}/login`, { body: { username, password: `wrong-${i}-password` }, headers: { origin: PAGE } })).status, 401);
  }
  const limited = await request(`${stack.auth.url}/login`, { body: { username, password }, headers: { origin: PAGE } });
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.body.error.code, 'too_many_attempts');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assertCorsGranted(limited.headers, PAGE);
});

test('another origin gets the usual answers without any CORS header', async () => {
  const username = uniqueName('cors');
  const reg = await request(`${stack.auth.url}/register`, { body: { username, password: 'correct horse battery' }, headers: { origin: OTHER } });
  assert.equal(reg.status, 201);
  assert.deepEqual(accessControlHeaders(reg.headers), []);
  const taken = await request(`${stack.auth.url}/register`, { body: { username, password: 'correct horse battery' }, headers: { origin: OTHER } });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'username_taken');
  assert.deepEqual(accessControlHeaders(taken.headers), []);
});

test('without CORS_ORIGINS Auth sends no CORS headers and a preflight is an ordinary OPTIONS', async () => {
  const plain = await stack.start('auth', { env: { CORS_ORIGINS: '' } });
  const pf = await preflight(`${plain.url}/login`, PAGE, 'POST');
  assert.notEqual(pf.status, 204);
  assert.deepEqual(accessControlHeaders(pf.headers), []);
  const jwks = await request(`${plain.url}/.well-known/jwks.json`, { headers: { origin: PAGE } });
  assert.equal(jwks.status, 200);
  assert.deepEqual(accessControlHeaders(jwks.headers), []);
});

test('a wildcard or a malformed CORS_ORIGINS stops Auth at start, naming the variable', async () => {
  for (const bad of ['*', 'http://127.0.0.1:5000/app']) {
    const { code, output } = await runUntilExit('auth', { ...stack.env, CORS_ORIGINS: bad });
    assert.notEqual(code, 0, bad);
    assert.match(output, /Invalid configuration: CORS_ORIGINS/, output);
  }
});
