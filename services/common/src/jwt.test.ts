import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { bearerToken, createServiceTokenSource, createServiceTokenVerifier, SERVICE_TOKEN_AUDIENCE, SERVICE_TOKEN_ISSUER, tokenAlgorithm } from './jwt.js';
import { RequestError } from './errors.js';

// The user-token verifier is tested against a real running Auth JWKS in services/auth/test.
const secret = 'x'.repeat(40);

test('a service token verifies with the same secret and names the service', async () => {
  const token = await createServiceTokenSource('gateway', secret)();
  assert.equal(tokenAlgorithm(token), 'HS256');
  assert.deepEqual(await createServiceTokenVerifier(secret)(token), { service: 'gateway' });
});

test('the source caches its token', async () => {
  const source = createServiceTokenSource('chat', secret);
  assert.equal(await source(), await source());
});

test('a service token with another secret, audience or an expired one is refused with 401', async () => {
  const verify = createServiceTokenVerifier(secret);
  const key = new TextEncoder().encode(secret);
  const now = Math.floor(Date.now() / 1000);
  const bad = [
    await createServiceTokenSource('gateway', 'y'.repeat(40))(),
    await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(SERVICE_TOKEN_ISSUER).setAudience('chat').setSubject('service:x').setIssuedAt().setExpirationTime('1m').sign(key),
    await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(SERVICE_TOKEN_ISSUER).setAudience(SERVICE_TOKEN_AUDIENCE).setSubject('service:x').setIssuedAt(now - 3600).setExpirationTime(now - 1800).sign(key),
    await new SignJWT({}).setProtectedHeader({ alg: 'HS384' }).setIssuer(SERVICE_TOKEN_ISSUER).setAudience(SERVICE_TOKEN_AUDIENCE).setSubject('service:x').setIssuedAt().setExpirationTime('1m').sign(key),
    'not-a-token',
  ];
  for (const token of bad) {
    await assert.rejects(verify(token), (err: unknown) => err instanceof RequestError && err.status === 401);
  }
});

test('bearerToken reads only a well-formed Bearer header', () => {
  assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c');
  assert.equal(bearerToken('bearer a.b.c'), 'a.b.c');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});
