// CORS on a real Chat process: a browser page on another origin sends with its bearer token and
// reads history, error envelopes included; every other origin gets no CORS header.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, startStack, type RunningService, type Stack, type TestUser } from '@chat/testkit';
import { assertEnvelope } from './support.js';

const PAGE = 'http://127.0.0.1:5000';
const OTHER = 'https://evil.example';

let stack: Stack;
let chat: RunningService;
let alice: TestUser;
let bob: TestUser;

before(async () => {
  stack = await startStack({ services: ['auth'], env: { LOG_LEVEL: 'warn' } });
  chat = await stack.start('chat', { env: { CORS_ORIGINS: `${PAGE},http://localhost:5000` } });
  [alice, bob] = await Promise.all([stack.user('Alice'), stack.user('Bob')]);
});
after(() => stack?.stop());

const preflight = (path: string, origin: string, method: string, headers = 'authorization, content-type') =>
  fetch(chat.url + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
const accessControl = (h: Headers) => [...h.keys()].filter((k) => k.startsWith('access-control-'));

function assertGranted(h: Headers, origin: string) {
  assert.equal(h.get('access-control-allow-origin'), origin);
  assert.equal(h.get('access-control-expose-headers'), 'Retry-After');
  assert.equal(h.get('access-control-allow-credentials'), null);
  assert.match(h.get('vary') ?? '', /\bOrigin\b/);
}

test('preflights for send, history and sync from a listed page get 204 with the grant', async () => {
  for (const [path, method] of [['/chat/send', 'POST'], ['/chat/history?with=bob', 'GET'], ['/chat/sync', 'GET']] as const) {
    const res = await preflight(path, PAGE, method);
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get('access-control-allow-origin'), PAGE);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, POST, PATCH, DELETE, OPTIONS');
    assert.equal(res.headers.get('access-control-allow-headers'), 'authorization, content-type');
    assert.equal(res.headers.get('access-control-max-age'), '600');
  }
  const other = await preflight('/chat/send', OTHER, 'POST');
  assert.equal(other.status, 204);
  assert.deepEqual(accessControl(other.headers), []);
});

test('a listed page sends with its bearer token and reads the history', async () => {
  const sent = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'from the browser' }, token: alice.token, headers: { origin: PAGE } });
  assert.equal(sent.status, 201, sent.text);
  assertGranted(sent.headers, PAGE);
  const history = await request(`${chat.url}/chat/history?with=${alice.username}`, { token: bob.token, headers: { origin: 'http://localhost:5000' } });
  assert.equal(history.status, 200, history.text);
  assert.ok(history.body.messages.some((m: { text: string }) => m.text === 'from the browser'));
  assertGranted(history.headers, 'http://localhost:5000');
});

test('error envelopes carry the grant, so the page can read them', async () => {
  const noToken = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'x' }, headers: { origin: PAGE } });
  assertEnvelope(noToken, 401, 'unauthorized');
  assertGranted(noToken.headers, PAGE);
  const bad = await request(`${chat.url}/chat/send`, { body: { to: bob.username }, token: alice.token, headers: { origin: PAGE } });
  assert.equal(bad.status, 400, bad.text);
  assert.ok(bad.body.error.code);
  assertGranted(bad.headers, PAGE);
  const wrongMethod = await request(`${chat.url}/chat/send`, { method: 'GET', token: alice.token, headers: { origin: PAGE } });
  assertEnvelope(wrongMethod, 405, 'method_not_allowed');
  assertGranted(wrongMethod.headers, PAGE);
  const unknown = await request(`${chat.url}/chat/nope`, { token: alice.token, headers: { origin: PAGE } });
  assertEnvelope(unknown, 404, 'not_found');
  assertGranted(unknown.headers, PAGE);
});

test('another origin is answered as usual, without any CORS header', async () => {
  const sent = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'not from a listed page' }, token: alice.token, headers: { origin: OTHER } });
  assert.equal(sent.status, 201, sent.text);
  assert.deepEqual(accessControl(sent.headers), []);
  const noToken = await request(`${chat.url}/chat/sync`, { headers: { origin: OTHER } });
  assertEnvelope(noToken, 401, 'unauthorized');
  assert.deepEqual(accessControl(noToken.headers), []);
});

test('a wildcard CORS_ORIGINS stops Chat at start, naming the variable', async () => {
  await assert.rejects(stack.start('chat', { env: { CORS_ORIGINS: '*' } }), /Invalid configuration: CORS_ORIGINS/);
});
