/**
 * The shared verifier from @chat/common (used by chat and the gateway) against this real Auth's
 * JWKS: what it must refuse, how often an unknown kid may refetch the key set, and rotation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import { RequestError } from '@chat/common/contracts';
import { createJwtVerifier, type VerifyUserToken } from '@chat/common/jwt';
import { generateSigningKeyPem, metricValue, registerAndLogin, request, sleep, startStack, uniqueName, type RunningService, type Stack, type TestUser } from '@chat/testkit';

let stack: Stack;
let auth: RunningService;
let signingKey: KeyObject;
let kid: string;
let user: TestUser;
let verify: VerifyUserToken;

const jwksUrl = (svc: RunningService) => `${svc.url}/.well-known/jwks.json`;
const jwksFetches = (svc: RunningService) => metricValue(svc, 'http_request_duration_seconds_count', { route: '/.well-known/jwks.json' });

before(async () => {
  stack = await startStack({ services: ['auth'] });
  auth = stack.auth;
  signingKey = createPrivateKey(stack.env.JWT_PRIVATE_KEY!);
  user = await registerAndLogin(auth.url, uniqueName('jwt'));
  kid = (await request(jwksUrl(auth))).body.keys[0].kid;
  verify = createJwtVerifier({ jwksUrl: jwksUrl(auth), issuer: 'chat-auth', audience: 'chat', cooldownMs: 1_000 });
});
after(() => stack?.stop());

const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the real signing key, with the claims and header given. */
function sign(claims: JWTPayload, header: { alg?: string; kid?: string } = {}, key: KeyObject | Uint8Array = signingKey): Promise<string> {
  const body: JWTPayload = { iss: 'chat-auth', aud: 'chat', sub: user.id, username: user.username, iat: now(), exp: now() + 300, ...claims };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return new SignJWT(body).setProtectedHeader({ alg: header.alg ?? 'ES256', kid: header.kid ?? kid }).sign(key);
}

async function rejected(token: string): Promise<string> {
  try {
    await verify(token);
  } catch (err) {
    assert.ok(err instanceof RequestError, String(err));
    assert.equal(err.status, 401);
    return err.message;
  }
  assert.fail('the verifier accepted the token');
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

test('the JWKS holds public EC keys only', async () => {
  const res = await request(jwksUrl(auth));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(res.body.keys.length, 1);
  for (const jwk of res.body.keys) {
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.crv, 'P-256');
    assert.equal(jwk.alg, 'ES256');
  }
  assert.doesNotMatch(res.text, /"d"/);
});

test('a login token verifies', async () => {
  const verified = await verify(user.token);
  assert.equal(verified.id, user.id);
  assert.equal(verified.username, user.username);
  assert.ok(verified.exp > now());
});

test('alg "none" is refused', async () => {
  const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'chat-auth', aud: 'chat', sub: user.id, username: user.username, exp: now() + 300 })}.`;
  await rejected(unsigned);
  // Also with the real kid and a junk signature.
  await rejected(`${b64({ alg: 'none', kid })}.${b64({ iss: 'chat-auth', aud: 'chat', sub: user.id, username: user.username, exp: now() + 300 })}.AAAA`);
});

test('HS256 signed with the public key (algorithm confusion) is refused', async () => {
  const jwk = (await request(jwksUrl(auth))).body.keys[0];
  const pub = createPublicKey({ key: jwk, format: 'jwk' });
  for (const secret of [Buffer.from(pub.export({ type: 'spki', format: 'pem' }).toString()), Buffer.from(JSON.stringify(jwk)), pub.export({ type: 'spki', format: 'der' })]) {
    assert.match(await rejected(await sign({}, { alg: 'HS256' }, new Uint8Array(secret))), /algorithm not allowed/);
  }
});

test('a wrong issuer or audience is refused', async () => {
  assert.match(await rejected(await sign({ iss: 'evil-auth' })), /"iss"/);
  assert.match(await rejected(await sign({ aud: 'other-app' })), /"aud"/);
  assert.match(await rejected(await sign({ iss: undefined })), /"iss"/);
  assert.match(await rejected(await sign({ aud: undefined })), /"aud"/);
});

test('an expired token is refused; the clock tolerance is 30 s', async () => {
  assert.match(await rejected(await sign({ iat: now() - 600, exp: now() - 60 })), /expired/);
  // Within the tolerance it still passes.
  assert.equal((await verify(await sign({ iat: now() - 600, exp: now() - 10 }))).id, user.id);
});

test('a token without exp (or without sub) is refused', async () => {
  assert.match(await rejected(await sign({ exp: undefined })), /"exp"/);
  assert.match(await rejected(await sign({ sub: undefined })), /"sub"/);
});

test('a token with an unknown kid is refused', async () => {
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  assert.match(await rejected(await sign({}, { kid: 'unknown-kid' }, stranger)), /unknown key/);
  // The real key under a kid that is not published is refused as well.
  assert.match(await rejected(await sign({}, { kid: 'unknown-kid-2' })), /unknown key/);
});

test('unknown kids refetch the JWKS at most once per cooldown', async () => {
  const fresh = createJwtVerifier({ jwksUrl: jwksUrl(auth), issuer: 'chat-auth', audience: 'chat', cooldownMs: 1_000 });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const forged = await Promise.all(Array.from({ length: 10 }, (_, i) => sign({}, { kid: `forged-${i}` }, stranger)));
  const expectRefusals = async () => {
    for (const token of forged) await assert.rejects(fresh(token), (e: unknown) => e instanceof RequestError && e.status === 401);
  };
  const start = await jwksFetches(auth);
  await fresh(user.token); // first use: one fetch
  assert.equal(await jwksFetches(auth), start + 1);
  await expectRefusals(); // inside the cooldown: no refetch at all
  await Promise.all(forged.map((t) => fresh(t).catch(() => undefined)));
  assert.equal(await jwksFetches(auth), start + 1);
  await sleep(1_100);
  await expectRefusals(); // the cooldown has passed: exactly one refetch for the burst
  assert.equal(await jwksFetches(auth), start + 2);
});

test('rotation: a restarted Auth with a new key keeps old tokens valid and verifiers pick the new key up', async () => {
  // A verifier in chat or the gateway has the old key set cached.
  const verifier = createJwtVerifier({ jwksUrl: jwksUrl(auth), issuer: 'chat-auth', audience: 'chat', cooldownMs: 500 });
  assert.equal((await verifier(user.token)).id, user.id);

  // Auth is redeployed on the same address with a new key; the old one becomes the previous key.
  const previousPublic = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  await auth.stop();
  auth = await stack.start('auth', { env: { JWT_PRIVATE_KEY: generateSigningKeyPem(), JWT_PREVIOUS_PUBLIC_KEY: previousPublic }, port: auth.port });
  const keys = (await request(jwksUrl(auth))).body.keys as Array<{ kid: string }>;
  assert.deepEqual(keys.length, 2);
  assert.notEqual(keys[0]!.kid, kid);
  assert.equal(keys[1]!.kid, kid, 'the previous key is published after the current one');

  // A token issued after the rotation carries the new kid…
  const login = await request(`${auth.url}/login`, { body: { username: user.username, password: user.password } });
  assert.equal(login.status, 200);
  const header = decodeProtectedHeader(String(login.body.token));
  assert.equal(header.kid, keys[0]!.kid);
  // …which the running verifier learns through its unknown-kid refetch, once the cooldown allows.
  await sleep(600);
  assert.equal((await verifier(login.body.token)).id, user.id);
  // Tokens issued before the rotation stay valid until they expire, here and in Auth itself.
  assert.equal((await verifier(user.token)).id, user.id);
  assert.equal((await request(`${auth.url}/users/${user.username}`, { token: user.token })).status, 200);
});
