/**
 * Tokens for the JWT matrix, built byte by byte (node:crypto, no JWT library that might refuse
 * to make a bad one): each differs from a valid user token in exactly one way. Those that only
 * break a claim are signed with the stack's real signing key, so the claim is all a verifier
 * can refuse them for.
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Stack, TestUser } from '@chat/testkit';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export interface RealKey {
  kid: string;
  privateKey: KeyObject;
  /** The public key as Auth's JWKS publishes it. */
  jwk: Record<string, unknown>;
  pem: string;
}

/** The stack's signing key: the private half from its environment, the kid from Auth's JWKS. */
export async function realKey(stack: Stack): Promise<RealKey> {
  const jwks = (await (await fetch(`${stack.auth.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
  const jwk = jwks.keys[0]!;
  const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  return { kid: String(jwk.kid), privateKey: createPrivateKey(stack.env.JWT_PRIVATE_KEY!), jwk, pem };
}

export function es256(header: object, claims: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export function hs256(header: object, claims: object, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** The claims Auth signs for `user`, valid for ten minutes. */
export function claimsOf(user: TestUser): Record<string, unknown> {
  return { iss: 'chat-auth', aud: 'chat', sub: user.id, username: user.username, iat: now(), exp: now() + 600 };
}

/** One way a token can be wrong, and how to make it for `user`. */
export type TokenForgery = [name: string, make: (key: RealKey, user: TestUser) => string];

const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });

export const FORGED_USER_TOKENS: TokenForgery[] = [
  ['alg none', (k, u) => `${b64({ alg: 'none', kid: k.kid, typ: 'JWT' })}.${b64(claimsOf(u))}.`],
  ['HS256 keyed with the public key as PEM', (k, u) => hs256({ alg: 'HS256', kid: k.kid, typ: 'JWT' }, claimsOf(u), k.pem)],
  ['HS256 keyed with the public key as JWK', (k, u) => hs256({ alg: 'HS256', kid: k.kid, typ: 'JWT' }, claimsOf(u), JSON.stringify(k.jwk))],
  ['a wrong iss', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), iss: 'evil-auth' }, k.privateKey)],
  ['a wrong aud', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), aud: 'chat-internal' }, k.privateKey)],
  ['a wrong typ', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'at+jwt' }, claimsOf(u), k.privateKey)],
  ['expired 2 minutes ago (beyond the 30 s skew)', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), iat: now() - 720, exp: now() - 120 }, k.privateKey)],
  ['nbf 2 minutes ahead', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), nbf: now() + 120 }, k.privateKey)],
  ['no exp', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), exp: undefined }, k.privateKey)],
  ['no sub', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, { ...claimsOf(u), sub: undefined }, k.privateKey)],
  ['a garbage signature', (k, u) => `${es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, claimsOf(u), k.privateKey).split('.').slice(0, 2).join('.')}.${randomBytes(64).toString('base64url')}`],
  ['ES256 from another key carrying the real kid', (k, u) => es256({ alg: 'ES256', kid: k.kid, typ: 'JWT' }, claimsOf(u), other.privateKey)],
  ['ES256 under an unknown kid', (_k, u) => es256({ alg: 'ES256', kid: `kid-${randomBytes(6).toString('hex')}`, typ: 'JWT' }, claimsOf(u), other.privateKey)],
  ['a forged service token (wrong secret)', () => hs256({ alg: 'HS256' }, { iss: 'chat-service', aud: 'chat-internal', sub: 'service:gateway', iat: now(), exp: now() + 300 }, randomBytes(32).toString('hex'))],
];

/** A token under a random kid nobody published, signed by a key nobody knows. */
export function unknownKidToken(user: TestUser): string {
  return es256({ alg: 'ES256', kid: `flood-${randomBytes(8).toString('hex')}`, typ: 'JWT' }, claimsOf(user), other.privateKey);
}
