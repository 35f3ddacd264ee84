import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, request, uniqueName } from '@chat/testkit';
import { authStack, post } from './support.js';

const stack = authStack();

test('register answers 201 {id, username} with an opaque string id', async () => {
  const username = uniqueName('Reg');
  const res = await post(`${stack.auth.url}/register`, { username, password: 'correct horse battery' });
  assert.equal(res.status, 201);
  assert.deepEqual(Object.keys(res.body).sort(), ['id', 'username']);
  assert.equal(res.body.username, username);
  assert.equal(typeof res.body.id, 'string');
  assert.ok(res.body.id.length > 0);
});

test('usernames are unique ignoring case, and the registered spelling is kept', async () => {
  const username = `MiXeD_${uniqueName('c')}`;
  assert.equal((await post(`${stack.auth.url}/register`, { username, password: 'password-one' })).status, 201);
  for (const variant of [username, username.toLowerCase(), username.toUpperCase()]) {
    const res = await post(`${stack.auth.url}/register`, { username: variant, password: 'password-two' });
    assert.equal(res.status, 409, variant);
    assert.deepEqual(res.body, { error: { code: 'username_taken', message: 'that username is already taken' } });
  }
  const login = await post(`${stack.auth.url}/login`, { username: username.toLowerCase(), password: 'password-one' });
  assert.equal(login.status, 200);
  assert.equal(login.body.user.username, username);
});

test('20 concurrent registers of one name in different cases: exactly one 201, the rest 409', async () => {
  const base = uniqueName('race').toLowerCase();
  // Spelling i upper-cases the letters whose position picks a set bit of i: 20 distinct casings.
  const spellings = Array.from({ length: 20 }, (_, i) => [...base].map((ch, j) => ((i >> j % 5) & 1 ? ch.toUpperCase() : ch)).join(''));
  const results = await Promise.all(spellings.map((username) => post(`${stack.auth.url}/register`, { username, password: 'race-password' })));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, ...Array(19).fill(409)], JSON.stringify(results.map((r) => [r.status, r.text])));
  for (const r of results.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 'username_taken');
  // The winner's spelling is the one stored.
  const winner = results.find((r) => r.status === 201)!.body;
  const login = await post(`${stack.auth.url}/login`, { username: base.toUpperCase(), password: 'race-password' });
  assert.equal(login.status, 200);
  assert.deepEqual(login.body.user, { id: winner.id, username: winner.username });
});

test('passwords sharing their first 72 bytes do not log in as each other', async () => {
  const username = uniqueName('long');
  const prefix = 'x'.repeat(72);
  assert.equal((await post(`${stack.auth.url}/register`, { username, password: `${prefix}-first` })).status, 201);
  assert.equal((await post(`${stack.auth.url}/login`, { username, password: `${prefix}-second` })).status, 401);
  assert.equal((await post(`${stack.auth.url}/login`, { username, password: prefix })).status, 401);
  assert.equal((await post(`${stack.auth.url}/login`, { username, password: `${prefix}-first` })).status, 200);
});

test('any Unicode password of 8 to 256 characters works', async () => {
  for (const password of ['пароль-пароль', '😀'.repeat(8), '密'.repeat(256), 'tab\tand\nnewline and \u0000 nul']) {
    const username = uniqueName('uni');
    assert.equal((await post(`${stack.auth.url}/register`, { username, password })).status, 201, password);
    assert.equal((await post(`${stack.auth.url}/login`, { username, password })).status, 200, password);
  }
});

test('missing or non-string fields are 400 invalid_request naming the field', async () => {
  const cases: Array<[unknown, string]> = [
    [{ password: 'password1' }, 'username is required'],
    [{ username: 'alice_x' }, 'password is required'],
    [{}, 'username is required'],
    // Operator keys are refused by the body rules (json-body-rules.ts) before any field is read.
    [{ username: { $ne: null }, password: 'password1' }, 'body key "$ne" may not start with "$"'],
    [{ username: { $gt: '' }, password: { $ne: null } }, 'body key "$gt" may not start with "$"'],
    [{ username: 'alice_x', password: { $ne: null } }, 'body key "$ne" may not start with "$"'],
    [{ username: 'alice_x', password: {} }, 'password must be a string'],
    [{ username: ['alice'], password: 'password1' }, 'username must be a string'],
    [{ username: 123, password: 'password1' }, 'username must be a string'],
    [{ username: null, password: 'password1' }, 'username must be a string'],
    [{ username: 'alice_x', password: 12345678 }, 'password must be a string'],
  ];
  for (const [body, message] of cases) {
    const res = await post(`${stack.auth.url}/register`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual(res.body, { error: { code: 'invalid_request', message } }, JSON.stringify(body));
  }
});

test('each broken rule is 400 invalid_request saying which rule', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['ab', 'password1', /username must be 3 to 32 characters/],
    ['x'.repeat(33), 'password1', /username must be 3 to 32 characters/],
    ['has space', 'password1', /username may contain only/],
    ['émile', 'password1', /username may contain only/],
    ['$where', 'password1', /username may contain only/],
    [uniqueName('ok'), 'short', /password must be 8 to 256 characters/],
    [uniqueName('ok'), 'y'.repeat(257), /password must be 8 to 256 characters/],
    [uniqueName('ok'), 'abcdefgh\ud800', /unpaired surrogate/],
  ];
  for (const [username, password, message] of cases) {
    const res = await post(`${stack.auth.url}/register`, { username, password });
    assert.equal(res.status, 400, `${username} / ${password.length}`);
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(res.body.error.message, message);
  }
});

test('auth_registrations_total counts registrations', async () => {
  const before = await metricValue(stack.auth, 'auth_registrations_total');
  assert.equal((await post(`${stack.auth.url}/register`, { username: uniqueName('m'), password: 'password1' })).status, 201);
  assert.equal((await post(`${stack.auth.url}/register`, { username: 'no', password: 'password1' })).status, 400);
  assert.equal(await metricValue(stack.auth, 'auth_registrations_total'), before + 1);
});

test('the password never reaches the log', async () => {
  const password = `secret-${uniqueName('pw')}`;
  await post(`${stack.auth.url}/register`, { username: uniqueName('log'), password });
  await post(`${stack.auth.url}/login`, { username: uniqueName('log'), password });
  await request(`${stack.auth.url}/readyz`);
  assert.doesNotMatch(stack.auth.output(), new RegExp(password));
});
