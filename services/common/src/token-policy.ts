/**
 * The user-token policy, defined once. Auth signs by it (auth/src/tokens.ts and keys.ts), and
 * every verifier enforces it: the shared one here (jwt.ts), Auth's own (auth/src/tokens.ts) and
 * the gateway's in-memory one, which a test holds to the shared one over the same tokens.
 */

/** Clock skew allowed on `exp` and `nbf`, for user and service tokens alike. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export const USER_TOKEN_POLICY = {
  /** The one algorithm signed and accepted: ECDSA on P-256 with SHA-256, with a `kid`. */
  algorithm: 'ES256',
  curve: 'P-256',
  /**
   * `iss` and `aud` unless JWT_ISSUER / JWT_AUDIENCE say otherwise: Auth signs with the
   * configured pair, and every verifier pins it.
   */
  issuer: 'chat-auth',
  audience: 'chat',
  /**
   * Claims a token must carry besides the pinned `iss` and `aud` (Auth also signs `iat` and
   * `username`; a verified token without a string `username` is refused as well).
   */
  requiredClaims: ['exp', 'sub'],
  clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
  /**
   * The `typ` header Auth signs. A token carrying another type (`at+jwt`, `dpop+jwt`, …) was
   * made for something else and is refused; one without `typ` is accepted (RFC 7519 makes the
   * header optional).
   */
  type: 'JWT',
} as const;

/** True when a token header's `typ` is absent or names a plain JWT (`JWT`, `application/jwt`, any letter case). */
export function isUserTokenType(typ: unknown): boolean {
  return typ === undefined || (typeof typ === 'string' && /^(application\/)?jwt$/i.test(typ));
}

/** The issuer and audience a deployment pins (JWT_ISSUER, JWT_AUDIENCE). */
export interface TokenPins {
  issuer: string;
  audience: string;
}
