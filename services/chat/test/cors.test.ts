// CORS on a real Chat process: a browser page on another origin sends with its bearer token and
// reads history, error envelopes included; every other origin gets no CORS header.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessControlHeaders, assertCorsGranted, assertPreflightGranted, preflight as preflightFrom, request, startStack, type RunningService, type Stack, type TestUser } from '@chat/testkit';
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

// A page's calls to Chat carry its bearer token.
const preflight = (path: string, origin: string, method: string) => preflightFrom(chat.url + path, origin, method, 'authorization, content-type');

test('preflights for send, history and sync from a listed page get 204 with the grant', async () => {
  for (const [path, method] of [['/chat/send', 'POST'], ['/chat/history?with=bob', 'GET'], ['/chat/sync', 'GET']] as const) {
    await assertPreflightGranted(await preflight(path, PAGE, method), PAGE, path);
  }
  const other = await preflight('/chat/send', OTHER, 'POST');
  assert.equal(other.status, 204);
  assert.deepEqual(accessControlHeaders(other.headers), []);
});

test('a listed page sends with its bearer token and reads the history', async () => {
  const sent = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'from the browser' }, token: alice.token, headers: { origin: PAGE } });
  assert.equal(sent.status, 201, sent.text);
  assertCorsGranted(sent.headers, PAGE);
  const history = await request(`${chat.url}/chat/history?with=${alice.username}`, { token: bob.token, headers: { origin: 'http://localhost:5000' } });
  assert.equal(history.status, 200, history.text);
  assert.ok(history.body.messages.some((m: { text: string }) => m.text === 'from the browser'));
  assertCorsGranted(history.headers, 'http://localhost:5000');
});

test('error envelopes carry the grant, so the page can read them', async () => {
  const noToken = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'x' }, headers: { origin: PAGE } });
  assertEnvelope(noToken, 401, 'unauthorized');
  assertCorsGranted(noToken.headers, PAGE);
  const bad = await request(`${chat.url}/chat/send`, { body: { to: bob.username }, token: alice.token, headers: { origin: PAGE } });
  assert.equal(bad.status, 400, bad.text);
  assert.ok(bad.body.error.code);
  assertCorsGranted(bad.headers, PAGE);
  const wrongMethod = await request(`${chat.url}/chat/send`, { method: 'GET', token: alice.token, headers: { origin: PAGE } });
  assertEnvelope(wrongMethod, 405, 'method_not_allowed');
  assertCorsGranted(wrongMethod.headers, PAGE);
  const unknown = await request(`${chat.url}/chat/nope`, { token: alice.token, headers: { origin: PAGE } });
  assertEnvelope(unknown, 404, 'not_found');
  assertCorsGranted(unknown.headers, PAGE);
});

test('another origin is answered as usual, without any CORS header', async () => {
  const sent = await request(`${chat.url}/chat/send`, { body: { to: bob.username, text: 'not from a listed page' }, token: alice.token, headers: { origin: OTHER } });
  assert.equal(sent.status, 201, sent.text);
  assert.deepEqual(accessControlHeaders(sent.headers), []);
  const noToken = await request(`${chat.url}/chat/sync`, { headers: { origin: OTHER } });
  assertEnvelope(noToken, 401, 'unauthorized');
  assert.deepEqual(accessControlHeaders(noToken.headers), []);
});

test('a wildcard CORS_ORIGINS stops Chat at start, naming the variable', async () => {
  await assert.rejects(stack.start('chat', { env: { CORS_ORIGINS: '*' } }), /Invalid configuration: CORS_ORIGINS/);
});
