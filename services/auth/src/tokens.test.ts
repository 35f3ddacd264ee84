import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { RequestError } from '@chat/common/contracts';
import { loadSigningKeys } from './keys.js';
import { createLocalTokenVerifier, createTokenIssuer } from './tokens.js';

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const opts = { issuer: 'chat-auth', audience: 'chat' };

test('issued tokens are ES256 with kid and carry iss, aud, sub, username, iat, exp', async () => {
  const keys = await loadSigningKeys({ privateKey: pem(), production: true });
  const issued = await createTokenIssuer(keys, { ...opts, ttlSeconds: 120 })({ id: 'u1', username: 'Alice' });
  assert.equal(issued.expiresIn, 120);
  assert.deepEqual(decodeProtectedHeader(issued.token), { alg: 'ES256', kid: keys.signing.kid, typ: 'JWT' });
  const claims = decodeJwt(issued.token);
  assert.deepEqual(Object.keys(claims).sort(), ['aud', 'exp', 'iat', 'iss', 'sub', 'username']);
  assert.equal(claims.iss, 'chat-auth');
  assert.equal(claims.aud, 'chat');
  assert.equal(claims.sub, 'u1');
  assert.equal(claims.username, 'Alice');
  assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 120);
  assert.ok(Math.abs((claims.iat ?? 0) - Date.now() / 1000) < 5);
});

test('the local verifier accepts tokens of the current and the previous key', async () => {
  const oldPem = pem();
  const before = await loadSigningKeys({ privateKey: oldPem, production: true });
  const after = await loadSigningKeys({ privateKey: pem(), previousPublicKey: oldPem, production: true });
  const oldToken = (await createTokenIssuer(before, { ...opts, ttlSeconds: 60 })({ id: 'u1', username: 'a' })).token;
  const newToken = (await createTokenIssuer(after, { ...opts, ttlSeconds: 60 })({ id: 'u2', username: 'b' })).token;
  const verify = createLocalTokenVerifier(after, opts);
  assert.equal((await verify(oldToken)).id, 'u1');
  assert.equal((await verify(newToken)).username, 'b');
  // Without the previous key configured, the old token is refused.
  const withoutPrevious = await loadSigningKeys({ privateKey: pem(), production: true });
  await assert.rejects(createLocalTokenVerifier(withoutPrevious, opts)(oldToken), (e: unknown) => e instanceof RequestError && e.status === 401);
});

test('the local verifier refuses wrong issuer, audience, expired tokens and missing username', async () => {
  const keys = await loadSigningKeys({ privateKey: pem(), production: true });
  const verify = createLocalTokenVerifier(keys, opts);
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, iss = 'chat-auth', aud = 'chat', exp = now + 60) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: keys.signing.kid }).setIssuer(iss).setAudience(aud).setSubject('u1').setIssuedAt(now).setExpirationTime(exp).sign(keys.signing.privateKey);
  const is401 = (re: RegExp) => (e: unknown) => e instanceof RequestError && e.status === 401 && re.test(e.message);
  await assert.rejects(verify(await sign({ username: 'a' }, 'someone-else')), is401(/iss/));
  await assert.rejects(verify(await sign({ username: 'a' }, 'chat-auth', 'other')), is401(/aud/));
  await assert.rejects(verify(await sign({ username: 'a' }, 'chat-auth', 'chat', now - 120)), is401(/expired/));
  await assert.rejects(verify(await sign({})), is401(/required claims/));
  assert.equal((await verify(await sign({ username: 'a' }))).username, 'a');
});
