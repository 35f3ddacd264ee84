import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { ConfigError, createLogger } from '@chat/common/config';
import { loadSigningKeys, parsePrivateKey, parsePublicKey } from './keys.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8 = (k = pair().privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

function captureLogger() {
  const lines: string[] = [];
  const logger = createLogger({ service: 't', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
  return { logger, lines };
}

test('a PKCS#8 PEM key loads; kid is its RFC 7638 thumbprint', async () => {
  const { privateKey } = pair();
  const keys = await loadSigningKeys({ privateKey: pkcs8(privateKey), production: true });
  const expected = await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as never, 'sha256');
  assert.equal(keys.signing.kid, expected);
  assert.equal(keys.ephemeral, false);
  assert.equal(keys.jwks.keys.length, 1);
  assert.equal(keys.jwks.keys[0]?.kid, expected);
  // The same key gives the same kid in every replica.
  assert.equal((await loadSigningKeys({ privateKey: pkcs8(privateKey), production: true })).signing.kid, expected);
});

test('a JWK key loads to the same kid as its PEM form', async () => {
  const { privateKey } = pair();
  const fromPem = await loadSigningKeys({ privateKey: pkcs8(privateKey), production: true });
  const fromJwk = await loadSigningKeys({ privateKey: JSON.stringify(privateKey.export({ format: 'jwk' })), production: true });
  assert.equal(fromJwk.signing.kid, fromPem.signing.kid);
});

test('a PEM on one line with literal \\n (as env files carry it) loads', async () => {
  const pem = pkcs8();
  const keys = await loadSigningKeys({ privateKey: pem.trim().replace(/\n/g, '\\n'), production: true });
  assert.equal(keys.signing.kid, (await loadSigningKeys({ privateKey: pem, production: true })).signing.kid);
});

test('the JWKS holds public parts only', async () => {
  const keys = await loadSigningKeys({ privateKey: pkcs8(), previousPublicKey: pkcs8(), production: true });
  for (const jwk of keys.jwks.keys) {
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(jwk.alg, 'ES256');
  }
  assert.doesNotMatch(JSON.stringify(keys.jwks), /"d"/);
});

test('the previous key is published after the current one (SPKI PEM, JWK, or its private key)', async () => {
  const current = pair();
  const previous = pair();
  const prevKid = await calculateJwkThumbprint(previous.publicKey.export({ format: 'jwk' }) as never, 'sha256');
  for (const form of [
    previous.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    JSON.stringify(previous.publicKey.export({ format: 'jwk' })),
    pkcs8(previous.privateKey),
  ]) {
    const keys = await loadSigningKeys({ privateKey: pkcs8(current.privateKey), previousPublicKey: form, production: true });
    assert.deepEqual(keys.jwks.keys.map((k) => k.kid), [keys.signing.kid, prevKid]);
    assert.equal(keys.verification[1]?.publicKey.type, 'public');
  }
  // Configuring the current key as the previous one does not publish it twice.
  const same = await loadSigningKeys({ privateKey: pkcs8(current.privateKey), previousPublicKey: pkcs8(current.privateKey), production: true });
  assert.equal(same.jwks.keys.length, 1);
});

test('without a key: ephemeral with a warning outside production, a ConfigError in production', async () => {
  const { logger, lines } = captureLogger();
  const keys = await loadSigningKeys({ production: false, logger });
  assert.equal(keys.ephemeral, true);
  assert.equal(keys.jwks.keys.length, 1);
  assert.ok(lines.some((l) => /"level":"warn".*ephemeral/.test(l)), lines.join(''));
  await assert.rejects(loadSigningKeys({ production: true }), (err: unknown) => err instanceof ConfigError && err.variable === 'JWT_PRIVATE_KEY');
});

test('bad keys are ConfigErrors naming the variable', () => {
  const isConfigError = (variable: string) => (err: unknown) => err instanceof ConfigError && err.variable === variable;
  assert.throws(() => parsePrivateKey('not a key'), isConfigError('JWT_PRIVATE_KEY'));
  assert.throws(() => parsePrivateKey('{"kty":"EC"'), isConfigError('JWT_PRIVATE_KEY'));
  // A public key cannot sign.
  assert.throws(() => parsePrivateKey(JSON.stringify(pair().publicKey.export({ format: 'jwk' }))), isConfigError('JWT_PRIVATE_KEY'));
  // ES256 needs P-256: other curves and RSA are refused.
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => parsePrivateKey(p384), isConfigError('JWT_PRIVATE_KEY'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => parsePrivateKey(rsa), isConfigError('JWT_PRIVATE_KEY'));
  assert.throws(() => parsePublicKey('garbage'), isConfigError('JWT_PREVIOUS_PUBLIC_KEY'));
});

test('a key error message never contains the key material', () => {
  const pem = pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey);
  try {
    parsePrivateKey(pem);
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /BEGIN|MII/);
  }
});
