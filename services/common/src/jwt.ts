/**
 * @chat/common/jwt — tokens: user-token verification against Auth's key set (under the policy in
 * token-policy.ts), the service-to-service token (minted and verified), and reading a bearer
 * token; and the cache of checked tokens (verified-token-cache.ts). Its own entry point.
 *
 * Package: jose. Imports contracts.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { RequestError } from './errors.js';
import { CLOCK_TOLERANCE_SECONDS, isUserTokenType, USER_TOKEN_POLICY, type TokenPins } from './token-policy.js';

export { cachingTokenVerifier, type VerifiedTokenCacheOptions } from './verified-token-cache.js';

/** What a verified user token tells us. `id` is the token's `sub`. */
export interface TokenUser {
  id: string;
  username: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface JwtVerifierOptions extends TokenPins {
  jwksUrl: string;
  /** Minimum time between two JWKS fetches caused by an unknown `kid`. */
  cooldownMs?: number;
  /** How long a fetched JWKS is trusted before a refetch. */
  cacheMaxAgeMs?: number;
  timeoutMs?: number;
}

export type VerifyUserToken = (token: string) => Promise<TokenUser>;

/** A client-safe reason for a refused token (the 401's message). */
export function describeTokenError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" is invalid`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  return 'invalid token';
}

/**
 * User-token verification against Auth's JWKS, under the user-token policy (token-policy.ts).
 * An unknown `kid` triggers at most one JWKS refetch per cooldown (jose's remote set does
 * that), so a flood of forged kids cannot hammer Auth.
 */
export function createJwtVerifier(opts: JwtVerifierOptions): VerifyUserToken {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUrl), {
    cooldownDuration: opts.cooldownMs ?? 30_000,
    cacheMaxAge: opts.cacheMaxAgeMs ?? 10 * 60_000,
    timeoutDuration: opts.timeoutMs ?? 5_000,
  });
  return createUserTokenVerifier(jwks, opts);
}

/**
 * User-token verification with keys from `keys` (a remote JWKS, or Auth's own key set), under
 * the user-token policy: the algorithm, issuer and audience pinned, the required claims present,
 * the policy's clock tolerance. A key set that cannot be fetched is a 503, any refusal a 401.
 */
export function createUserTokenVerifier(keys: JWTVerifyGetKey, pins: TokenPins): VerifyUserToken {
  return async (token) => {
    let payload: JWTPayload;
    let typ: unknown;
    try {
      ({ payload, protectedHeader: { typ } } = await jwtVerify(token, keys, {
        algorithms: [USER_TOKEN_POLICY.algorithm],
        issuer: pins.issuer,
        audience: pins.audience,
        requiredClaims: [...USER_TOKEN_POLICY.requiredClaims],
        clockTolerance: USER_TOKEN_POLICY.clockToleranceSeconds,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && /fetch failed|ECONNREFUSED/i.test(err.message))) {
        throw new RequestError(503, 'unavailable', 'cannot verify tokens right now: the key set is unreachable');
      }
      throw new RequestError(401, 'unauthorized', describeTokenError(err));
    }
    if (!isUserTokenType(typ)) throw new RequestError(401, 'unauthorized', 'token header "typ" is invalid');
    if (typeof payload.username !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
      throw new RequestError(401, 'unauthorized', 'token lacks required claims');
    }
    return { id: payload.sub, username: payload.username, exp: payload.exp };
  };
}

// ---- Service-to-service credential -------------------------------------------------------
//
// Gateway and Chat look users up in Auth without a user's token (an event arrives with no user
// attached). They present a short-lived HS256 token signed with SERVICE_TOKEN_SECRET, a secret
// only the services hold (a Kubernetes Secret). Auth never signs HS256 and never hands this
// secret out, so a user cannot obtain one; the distinct algorithm, issuer and audience keep the
// two kinds of token from being confused for each other.

export const SERVICE_TOKEN_ISSUER = 'chat-service';
export const SERVICE_TOKEN_AUDIENCE = 'chat-internal';
const SERVICE_TOKEN_TTL_SECONDS = 300;

function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Returns a cached service token, minted again shortly before it expires. */
export function createServiceTokenSource(service: string, secret: string): () => Promise<string> {
  const key = secretKey(secret);
  let cached: { token: string; exp: number } | undefined;
  return async () => {
    const now = Math.floor(Date.now() / 1000);
    if (cached && cached.exp - now > 60) return cached.token;
    const exp = now + SERVICE_TOKEN_TTL_SECONDS;
    const token = await new SignJWT({ svc: service })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(SERVICE_TOKEN_ISSUER)
      .setAudience(SERVICE_TOKEN_AUDIENCE)
      .setSubject(`service:${service}`)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(key);
    cached = { token, exp };
    return token;
  };
}

export function createServiceTokenVerifier(secret: string): (token: string) => Promise<{ service: string }> {
  const key = secretKey(secret);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: SERVICE_TOKEN_ISSUER,
        audience: SERVICE_TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: `${SERVICE_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS}s`,
      });
      return { service: String(payload.sub).replace(/^service:/, '') };
    } catch (err) {
      throw new RequestError(401, 'unauthorized', describeTokenError(err));
    }
  };
}

/** The algorithm in a token's header, or undefined when it is not a JWS at all. */
export function tokenAlgorithm(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return undefined;
  }
}

/** `Authorization: Bearer <token>` → token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9\-_.]+)\s*$/i.exec(header);
  return m?.[1];
}
