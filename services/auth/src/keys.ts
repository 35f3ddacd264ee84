import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { USER_TOKEN_POLICY } from '@chat/common/contracts';
import { ConfigError, type Logger } from '@chat/common/config';

/** A public key as published in the JWKS: never carries `d`. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: typeof USER_TOKEN_POLICY.algorithm;
  use: 'sig';
}

export interface VerificationKey {
  kid: string;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

export interface SigningKeySet {
  /** The key new tokens are signed with. */
  signing: { kid: string; privateKey: KeyObject };
  /** Every key a token may be signed with: the current one first, then the previous one. */
  verification: readonly VerificationKey[];
  /** The public JSON Web Key Set served at /.well-known/jwks.json. */
  jwks: { keys: PublicJwk[] };
  /** True when no key was configured and one was generated for this process only. */
  ephemeral: boolean;
}

/** Env files and Helm values often carry a PEM on one line with literal `\n`. */
function unescapeNewlines(raw: string): string {
  const trimmed = raw.trim();
  return trimmed.includes('\n') ? trimmed : trimmed.replace(/\\n/g, '\n');
}

function parseJwk(raw: string, variable: string): JsonWebKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(variable, 'looks like JSON but does not parse as a JWK');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(variable, 'must be a JWK object');
  return parsed as JsonWebKey;
}

function requireP256(key: KeyObject, variable: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ConfigError(variable, `must be an EC ${USER_TOKEN_POLICY.curve} key for ${USER_TOKEN_POLICY.algorithm}`);
  }
  return key;
}

/** A private signing key from a PKCS#8 PEM (SEC1 is accepted too) or a JWK with `d`. */
export function parsePrivateKey(raw: string, variable = 'JWT_PRIVATE_KEY'): KeyObject {
  const text = unescapeNewlines(raw);
  let key: KeyObject;
  try {
    key = text.startsWith('{') ? createPrivateKey({ key: parseJwk(text, variable), format: 'jwk' }) : createPrivateKey(text);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(variable, 'is not a private key (expected a PKCS#8 PEM or a JWK with "d")');
  }
  return requireP256(key, variable);
}

/** A public key from an SPKI PEM or a JWK; a private key is accepted and its public half used. */
export function parsePublicKey(raw: string, variable = 'JWT_PREVIOUS_PUBLIC_KEY'): KeyObject {
  const text = unescapeNewlines(raw);
  let key: KeyObject;
  try {
    key = text.startsWith('{') ? createPublicKey({ key: parseJwk(text, variable), format: 'jwk' }) : createPublicKey(text);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(variable, 'is not a public key (expected an SPKI PEM or a JWK)');
  }
  return requireP256(key, variable);
}

/** The public JWK of a key, with the RFC 7638 thumbprint as `kid`, so every replica agrees on it. */
export async function publicJwk(key: KeyObject): Promise<PublicJwk> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const { kty, crv, x, y } = pub.export({ format: 'jwk' });
  if (!kty || !crv || !x || !y) throw new Error('EC public key export lacks a coordinate');
  const kid = await calculateJwkThumbprint({ kty, crv, x, y } satisfies JWK, 'sha256');
  return { kty, crv, x, y, kid, alg: USER_TOKEN_POLICY.algorithm, use: 'sig' };
}

export interface LoadKeysOptions {
  privateKey?: string | undefined;
  previousPublicKey?: string | undefined;
  production: boolean;
  logger?: Logger;
}

/**
 * The signing key comes from JWT_PRIVATE_KEY. Without one, outside production only, an
 * ephemeral key is generated: tokens then die with the process and replicas disagree, which is
 * fine for a laptop and never acceptable in production, hence the ConfigError there.
 */
export async function loadSigningKeys(opts: LoadKeysOptions): Promise<SigningKeySet> {
  let privateKey: KeyObject;
  let ephemeral = false;
  if (opts.privateKey) {
    privateKey = parsePrivateKey(opts.privateKey);
  } else if (opts.production) {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is required in production (an ES256 PKCS#8 PEM or JWK)');
  } else {
    privateKey = generateKeyPairSync('ec', { namedCurve: USER_TOKEN_POLICY.curve }).privateKey;
    ephemeral = true;
    opts.logger?.warn('JWT_PRIVATE_KEY is not set: signing with an ephemeral key; tokens will not survive a restart or work across replicas');
  }
  const current = await publicJwk(privateKey);
  const verification: VerificationKey[] = [{ kid: current.kid, publicKey: createPublicKey(privateKey), jwk: current }];
  if (opts.previousPublicKey) {
    const previousKey = parsePublicKey(opts.previousPublicKey);
    const previous = await publicJwk(previousKey);
    if (previous.kid !== current.kid) verification.push({ kid: previous.kid, publicKey: previousKey, jwk: previous });
  }
  return {
    signing: { kid: current.kid, privateKey },
    verification,
    jwks: { keys: verification.map((k) => k.jwk) },
    ephemeral,
  };
}
