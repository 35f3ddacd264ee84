import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createServiceTokenSource } from '@chat/common/jwt';
import { createUserDirectory } from '@chat/common/user-directory';
import { registerAndLogin, request, uniqueName, type TestUser } from '@chat/testkit';
import { authStack } from './support.js';

let alice: TestUser;
const stack = authStack({}, async ({ auth }) => {
  alice = await registerAndLogin(auth.url, `Alice_${uniqueName('u')}`);
});

const lookup = (name: string, token?: string) => request(`${stack.auth.url}/users/${encodeURIComponent(name)}`, token ? { token } : {});

test('with a user token: 200 {id, username} in any letter case, with the registered spelling', async () => {
  for (const name of [alice.username, alice.username.toLowerCase(), alice.username.toUpperCase()]) {
    const res = await lookup(name, alice.token);
    assert.equal(res.status, 200, name);
    assert.deepEqual(res.body, { id: alice.id, username: alice.username });
  }
});

test('an unknown name, or one that cannot exist, is 404 user_not_found', async () => {
  for (const name of [uniqueName('nobody'), 'ab', 'not a name', '$ne', 'x'.repeat(40)]) {
    const res = await lookup(name, alice.token);
    assert.equal(res.status, 404, name);
    assert.deepEqual(res.body, { error: { code: 'user_not_found', message: 'no such user' } });
  }
});

test('without a valid token: 401', async () => {
  const noToken = await lookup(alice.username);
  assert.equal(noToken.status, 401);
  assert.equal(noToken.body.error.code, 'unauthorized');
  for (const token of ['garbage', 'a.b.c', `${alice.token}x`, alice.token.split('.').slice(0, 2).join('.') + '.']) {
    const res = await lookup(alice.username, token);
    assert.equal(res.status, 401, token);
    assert.equal(res.body.error.code, 'unauthorized');
  }
  const basic = await request(`${stack.auth.url}/users/${alice.username}`, { headers: { authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' } });
  assert.equal(basic.status, 401);
});

test('a service token (HS256, SERVICE_TOKEN_SECRET) works, as the gateway and chat use it', async () => {
  const token = await createServiceTokenSource('gateway', stack.env.SERVICE_TOKEN_SECRET!)();
  const res = await lookup(alice.username.toLowerCase(), token);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { id: alice.id, username: alice.username });
  // The shared user directory, end to end against the real Auth.
  const directory = createUserDirectory({ authUrl: stack.auth.url, credential: createServiceTokenSource('chat', stack.env.SERVICE_TOKEN_SECRET!) });
  assert.deepEqual(await directory.resolve(alice.username.toUpperCase()), { id: alice.id, username: alice.username });
  assert.equal(await directory.resolve(uniqueName('nobody')), null);
});

test('a service token signed with a wrong secret is 401', async () => {
  const token = await createServiceTokenSource('gateway', 'a-wrong-secret-that-is-long-enough-0123456789')();
  const res = await lookup(alice.username, token);
  assert.equal(res.status, 401);
  assert.equal(res.body.error.code, 'unauthorized');
});

test('a user cannot forge a service token: HS256 with user claims keyed by the public key bytes is 401', async () => {
  const jwks = (await request(`${stack.auth.url}/.well-known/jwks.json`)).body as { keys: Array<Record<string, string>> };
  const jwk = jwks.keys[0]!;
  const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
  const now = Math.floor(Date.now() / 1000);
  const candidateSecrets = [
    Buffer.from(JSON.stringify(jwk)),
    Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    publicKey.export({ type: 'spki', format: 'der' }),
  ];
  for (const secret of candidateSecrets) {
    // As a user token (the algorithm-confusion attack) and dressed as a service token.
    const asUser = await new SignJWT({ username: alice.username })
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid! })
      .setIssuer('chat-auth')
      .setAudience('chat')
      .setSubject(alice.id)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new Uint8Array(secret));
    const asService = await new SignJWT({ svc: 'gateway', username: alice.username })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('chat-service')
      .setAudience('chat-internal')
      .setSubject('service:gateway')
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new Uint8Array(secret));
    for (const token of [asUser, asService]) {
      const res = await lookup(alice.username, token);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'unauthorized');
    }
  }
});

test('no endpoint issues HS256 tokens: login tokens are ES256 only', async () => {
  const login = await request(`${stack.auth.url}/login`, { body: { username: alice.username, password: alice.password } });
  assert.equal(login.status, 200);
  const header = JSON.parse(Buffer.from(String(login.body.token).split('.')[0]!, 'base64url').toString());
  assert.equal(header.alg, 'ES256');
});

test('a user token signed by a key Auth does not publish is 401', async () => {
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ username: alice.username })
    .setProtectedHeader({ alg: 'ES256', kid: 'not-a-published-kid' })
    .setIssuer('chat-auth')
    .setAudience('chat')
    .setSubject(alice.id)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(stranger);
  assert.equal((await lookup(alice.username, token)).status, 401);
});
