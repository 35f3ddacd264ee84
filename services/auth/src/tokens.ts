import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { CLOCK_TOLERANCE_SECONDS, describeTokenError, RequestError, USER_TOKEN_ALGORITHMS, type VerifyUserToken } from '@chat/common';
import { SIGNING_ALGORITHM, type SigningKeySet } from './keys.js';

export interface TokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

/** Signs user tokens: ES256 with `kid`, claims iss, aud, sub (user id), username, iat, exp. */
export function createTokenIssuer(keys: SigningKeySet, opts: TokenOptions): (user: { id: string; username: string }) => Promise<IssuedToken> {
  return async (user) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ username: user.username })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: keys.signing.kid, typ: 'JWT' })
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
 * HTTP, under the same policy as the shared verifier in @chat/common (ES256 only, pinned
 * issuer and audience, exp and sub required, the same clock tolerance).
 */
export function createLocalTokenVerifier(keys: SigningKeySet, opts: { issuer: string; audience: string }): VerifyUserToken {
  const jwks = createLocalJWKSet(keys.jwks);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: USER_TOKEN_ALGORITHMS,
        issuer: opts.issuer,
        audience: opts.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      if (typeof payload.username !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
        throw new RequestError(401, 'unauthorized', 'token lacks required claims');
      }
      return { id: payload.sub, username: payload.username, exp: payload.exp };
    } catch (err) {
      if (err instanceof RequestError) throw err;
      throw new RequestError(401, 'unauthorized', describeTokenError(err));
    }
  };
}
