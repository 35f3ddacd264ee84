import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { metricValue, request, uniqueName } from '@chat/testkit';
import { authStack, post } from './support.js';

// This process runs with the default bcrypt cost (12), so the enumeration timing check below
// compares real bcrypt work, as in production. That check makes 50 failed logins for one name
// and 50 for another from one address (127.0.0.1), which the failure limits would refuse after
// 10: they are opened wide here so that every one of the 100 is a real password check (the
// limits have their own tests in rate-limit.test.ts). The per-address rate and the bcrypt queue
// are already wide in every test stack (@chat/testkit).
const stack = authStack({ BCRYPT_COST: '', LOGIN_MAX_FAILURES: '1000', LOGIN_DELAY_AFTER_FAILURES: '1000' });

async function register(username = uniqueName('L'), password = 'correct horse battery') {
  const res = await post(`${stack.auth.url}/register`, { username, password });
  assert.equal(res.status, 201, res.text);
  return { ...(res.body as { id: string; username: string }), password };
}

test('the default bcrypt cost is 12 (the stored hash says $2b$12$)', async () => {
  const user = await register();
  const client = new MongoClient(stack.infra.mongoUrl);
  try {
    const doc = await client.db(stack.env.AUTH_MONGO_DB).collection('accounts').findOne({ usernameLower: user.username.toLowerCase() });
    assert.match(String(doc?.passwordHash), /^\$2b\$12\$/);
    // The password itself is stored nowhere.
    assert.doesNotMatch(JSON.stringify(doc), /correct horse/);
  } finally {
    await client.close();
  }
});

test('a hash made at another cost is upgraded to the current cost at the next login', async () => {
  const cheap = await stack.start('auth', { env: { BCRYPT_COST: '4' } });
  const username = uniqueName('rehash');
  assert.equal((await post(`${cheap.url}/register`, { username, password: 'rehash-password' })).status, 201);
  const client = new MongoClient(stack.infra.mongoUrl);
  try {
    const users = client.db(stack.env.AUTH_MONGO_DB).collection('accounts');
    const storedHash = async () => String((await users.findOne({ usernameLower: username.toLowerCase() }))?.passwordHash);
    assert.match(await storedHash(), /^\$2b\$04\$/);
    assert.equal((await post(`${stack.auth.url}/login`, { username, password: 'rehash-password' })).status, 200);
    assert.match(await storedHash(), /^\$2b\$12\$/);
    // Still the same password, wherever it is checked.
    assert.equal((await post(`${stack.auth.url}/login`, { username, password: 'rehash-password' })).status, 200);
    assert.equal((await post(`${cheap.url}/login`, { username, password: 'wrong-password' })).status, 401);
  } finally {
    await client.close();
    await cheap.stop();
  }
});

test('login answers 200 {token, tokenType, expiresIn, user}, in any letter case of the name', async () => {
  const user = await register(`Case_${uniqueName('x')}`);
  const res = await post(`${stack.auth.url}/login`, { username: user.username.toUpperCase(), password: user.password });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['expiresIn', 'token', 'tokenType', 'user']);
  assert.equal(res.body.tokenType, 'Bearer');
  assert.equal(res.body.expiresIn, 3600);
  assert.deepEqual(res.body.user, { id: user.id, username: user.username });
  const header = decodeProtectedHeader(res.body.token);
  assert.equal(header.alg, 'ES256');
  assert.equal(typeof header.kid, 'string');
  const claims = decodeJwt(res.body.token);
  assert.equal(claims.iss, 'chat-auth');
  assert.equal(claims.aud, 'chat');
  assert.equal(claims.sub, user.id);
  assert.equal(claims.username, user.username);
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
});

test('wrong password and unknown user: byte-identical bodies, median timing within 10 ms over 50 tries each, at the default cost', async (t) => {
  const user = await register();
  // One unknown name, tried as often as the known one, so both go through the same limit records.
  const ghost = uniqueName('ghost');
  const wrong = () => post(`${stack.auth.url}/login`, { username: user.username, password: 'not the password' });
  const unknown = () => post(`${stack.auth.url}/login`, { username: ghost, password: 'not the password' });
  const time = async (fn: () => Promise<{ status: number; text: string; headers: Headers }>) => {
    const t = performance.now();
    const res = await fn();
    return { ms: performance.now() - t, res };
  };
  const wrongMs: number[] = [];
  const unknownMs: number[] = [];
  const bodies = new Set<string>();
  const contentTypes = new Set<string | null>();
  // Interleaved, each going first every other round, so drift in the machine's load (and the
  // background work one request leaves to the next) falls on both alike.
  for (let i = 0; i < 50; i++) {
    const pair = [[wrong, wrongMs], [unknown, unknownMs]] as const;
    for (const [fn, into] of i % 2 ? [...pair].reverse() : pair) {
      const { ms, res } = await time(fn);
      assert.equal(res.status, 401, res.text);
      bodies.add(res.text);
      contentTypes.add(res.headers.get('content-type'));
      into.push(ms);
    }
  }
  assert.deepEqual([...bodies], [JSON.stringify({ error: { code: 'invalid_credentials', message: 'invalid username or password' } })]);
  assert.equal(contentTypes.size, 1);
  // Without the dummy bcrypt run an unknown name would answer ~10x faster at cost 12 (a few ms
  // of database work against ~250 ms of bcrypt). The difference is taken per round (the two
  // requests of a round run back to back, under the same load), and its median must be under
  // 10 ms: other work on a shared machine moves both requests of a round alike, so it cancels
  // there, where it would not in the difference of two separately taken medians (also shown).
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return (s[24]! + s[25]!) / 2;
  };
  const [w, u] = [median(wrongMs), median(unknownMs)];
  const d = median(unknownMs.map((ms, i) => ms - wrongMs[i]!));
  const figures = `median difference per round ${d.toFixed(1)} ms; medians: unknown ${u.toFixed(1)} ms, wrong password ${w.toFixed(1)} ms`;
  t.diagnostic(figures);
  assert.ok(w > 100, `the default cost takes over 100 ms a check (${figures})`);
  assert.ok(Math.abs(d) < 10, figures);
});

test('names outside the username rules get the same 401, not a 400', async () => {
  const known = await post(`${stack.auth.url}/login`, { username: uniqueName('ghost'), password: 'whatever-pass' });
  for (const username of ['a', 'has space', 'x'.repeat(40), '']) {
    const res = await post(`${stack.auth.url}/login`, { username, password: 'whatever-pass' });
    assert.equal(res.status, 401, username);
    assert.equal(res.text, known.text);
  }
});

test('NoSQL operator bodies and non-string fields are 400, never a match', async () => {
  await register();
  // Operator keys are refused by the body rules (json-body-rules.ts) before any field is read.
  const cases: Array<[unknown, string]> = [
    [{ username: { $ne: null }, password: { $ne: null } }, 'body key "$ne" may not start with "$"'],
    [{ username: { $regex: '.*' }, password: 'x' }, 'body key "$regex" may not start with "$"'],
    [{ username: 'someone', password: { $ne: null } }, 'body key "$ne" may not start with "$"'],
    [{ username: 'someone', password: { $gt: '' } }, 'body key "$gt" may not start with "$"'],
    [{ username: ['someone'], password: 'x' }, 'username must be a string'],
    [{ username: 'someone' }, 'password is required'],
    [{ password: 'x' }, 'username is required'],
    [{ username: 'someone', password: 1 }, 'password must be a string'],
  ];
  for (const [body, message] of cases) {
    const res = await post(`${stack.auth.url}/login`, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.deepEqual(res.body, { error: { code: 'invalid_request', message } });
  }
});

test('auth_login_attempts_total counts success and invalid_credentials', async () => {
  const user = await register();
  const ok0 = await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'success' });
  const bad0 = await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'invalid_credentials' });
  assert.equal((await post(`${stack.auth.url}/login`, { username: user.username, password: user.password })).status, 200);
  assert.equal((await post(`${stack.auth.url}/login`, { username: user.username, password: 'wrong-password' })).status, 401);
  assert.equal((await post(`${stack.auth.url}/login`, { username: uniqueName('nobody'), password: 'wrong-password' })).status, 401);
  assert.equal(await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'success' }), ok0 + 1);
  assert.equal(await metricValue(stack.auth, 'auth_login_attempts_total', { result: 'invalid_credentials' }), bad0 + 2);
  const text = (await request(`${stack.auth.metricsUrl}/metrics`)).text;
  assert.match(text, /auth_login_attempts_total\{[^}]*result="rate_limited"[^}]*\} 0/);
});
