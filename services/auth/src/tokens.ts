import { createLocalJWKSet, SignJWT } from 'jose';
import { USER_TOKEN_POLICY, type TokenPins } from '@chat/common/contracts';
import { createUserTokenVerifier, type VerifyUserToken } from '@chat/common/jwt';
import type { SigningKeySet } from './keys.js';

export interface TokenOptions extends TokenPins {
  ttlSeconds: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

/** Signs user tokens by the user-token policy: ES256 with `kid`, claims iss, aud, sub (user id), username, iat, exp. */
export function createTokenIssuer(keys: SigningKeySet, opts: TokenOptions): (user: { id: string; username: string }) => Promise<IssuedToken> {
  return async (user) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ username: user.username })
      .setProtectedHeader({ alg: USER_TOKEN_POLICY.algorithm, kid: keys.signing.kid, typ: 'JWT' })
      .setIssuer(opts.issuer)
      .setAudience(opts.audience)
      .setSubject(user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + opts.ttlSeconds)
      .sign(keys.signing.privateKey);
    return { token, expiresIn: opts.ttlSeconds };
  };
}

/**
 * Auth verifies user tokens with its own public keys instead of fetching its own JWKS over
 * HTTP, under the same policy as every other verifier (@chat/common's token-policy.ts).
 */
export function createLocalTokenVerifier(keys: SigningKeySet, pins: TokenPins): VerifyUserToken {
  return createUserTokenVerifier(createLocalJWKSet(keys.jwks), pins);
}
