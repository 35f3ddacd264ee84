import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { isUserTokenType, RequestError, USER_TOKEN_POLICY, type TokenPins } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import type { TokenUser } from '@chat/common/jwt';

/**
 * User-token verification against Auth's public keys held in memory, without awaiting anything.
 *
 * Why not only the shared (jose, async) verifier: uWS has a bug where a socket upgraded
 * asynchronously inside `res.cork` is sometimes closed right after `open` (uWebSockets #1928,
 * fixed upstream by PR #1929, not in this build; measured here at up to 20% of connects after an
 * idle second). Upgrading within the upgrade callback itself avoids it, and needs a verifier
 * that answers there and then. The policy is @chat/common's USER_TOKEN_POLICY, as for `createJwtVerifier`
 * (one algorithm, pinned issuer and audience, the required claims, the same clock tolerance); a
 * test runs both over the same set of good and bad tokens.
 *
 * A token whose key is not known here yet (start-up, a rotated key) makes `verify` return
 * undefined; `verifyOrFetch` then refetches the JWKS into this same key set and decides. This
 * is the gateway's only copy of Auth's keys, so there is one cooldown: a burst of tokens under
 * unknown kids costs at most one fetch per cooldown (two caches with a cooldown each fetched
 * twice; issue 16, black-box finding 4).
 */
export interface InMemoryTokenVerifier {
  /** The user; undefined when the signing key is unknown here. Throws RequestError(401) when invalid. */
  verify(token: string): TokenUser | undefined;
  /**
   * `verify`, and for a key unknown here one refetch (within the cooldown, shared by every
   * caller in flight) and a second look. Rejects with RequestError 401 (still unknown, or
   * invalid) or 503 (the key set cannot be fetched).
   */
  verifyOrFetch(token: string): Promise<TokenUser>;
  /** Fetches the JWKS now (at most once per cooldown unless forced). */
  refresh(force?: boolean): Promise<void>;
  /** Starts the periodic refresh; the first fetch happens at once. */
  start(): void;
  stop(): void;
  readonly keyCount: number;
}

export interface InMemoryTokenVerifierOptions extends TokenPins {
  jwksUrl: string;
  logger: Logger;
  /** Periodic refetch, so a rotated key is known before the first token signed with it. */
  refreshEveryMs?: number;
  /** Minimum time between two fetches triggered by unknown keys. */
  cooldownMs?: number;
  timeoutMs?: number;
}

const unauthorized = (message: string) => new RequestError(401, 'unauthorized', message);

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function createInMemoryTokenVerifier(opts: InMemoryTokenVerifierOptions): InMemoryTokenVerifier {
  let keys = new Map<string, KeyObject>();
  let lastFetch = 0;
  let lastFetchFailed = false;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const cooldownMs = opts.cooldownMs ?? 30_000;

  async function fetchKeys(): Promise<void> {
    lastFetch = Date.now();
    const res = await fetch(opts.jwksUrl, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
    const body = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error('JWKS has no "keys" array');
    const next = new Map<string, KeyObject>();
    for (const jwk of body.keys as Record<string, unknown>[]) {
      if (jwk.kty !== 'EC' || jwk.crv !== USER_TOKEN_POLICY.curve || typeof jwk.kid !== 'string') continue;
      if (jwk.alg !== undefined && jwk.alg !== USER_TOKEN_POLICY.algorithm) continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      try {
        next.set(jwk.kid, createPublicKey({ key: { kty: 'EC', crv: USER_TOKEN_POLICY.curve, x: jwk.x, y: jwk.y } as never, format: 'jwk' }));
      } catch (err) {
        opts.logger.warn({ err, kid: jwk.kid }, 'ignoring a JWKS key that does not import');
      }
    }
    keys = next;
    opts.logger.debug({ keys: next.size }, 'JWKS loaded');
  }

  const refresh = (force = false): Promise<void> => {
    if (inFlight) return inFlight;
    if (!force && Date.now() - lastFetch < cooldownMs) return Promise.resolve();
    inFlight = fetchKeys()
      .then(() => void (lastFetchFailed = false))
      .catch((err: unknown) => {
        lastFetchFailed = true;
        opts.logger.warn({ err }, 'cannot fetch the JWKS; tokens under keys not loaded here are refused with 503 meanwhile');
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  };

  function verify(token: string): TokenUser | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) throw unauthorized('invalid token');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodeJson(headerPart);
    if (!header) throw unauthorized('invalid token');
    if (header.alg !== USER_TOKEN_POLICY.algorithm) throw unauthorized('token algorithm not allowed');
    if (!isUserTokenType(header.typ)) throw unauthorized('token header "typ" is invalid');
    // Extensions we do not implement must not be silently ignored (RFC 7515 §4.1.11).
    if (header.crit !== undefined || header.b64 !== undefined) throw unauthorized('invalid token');
    let key: KeyObject | undefined;
    if (typeof header.kid === 'string') key = keys.get(header.kid);
    else if (header.kid === undefined && keys.size === 1) key = keys.values().next().value;
    if (!key) return undefined; // unknown here: verifyOrFetch refetches and decides

    const signature = Buffer.from(signaturePart, 'base64url');
    if (signature.length !== 64) throw unauthorized('invalid token');
    const valid = verifySignature('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) throw unauthorized('invalid token');

    const claims = decodeJson(payloadPart);
    if (!claims) throw unauthorized('invalid token');
    const now = Math.floor(Date.now() / 1000);
    for (const numeric of ['exp', 'nbf', 'iat'] as const) {
      if (claims[numeric] !== undefined && typeof claims[numeric] !== 'number') throw unauthorized('invalid token');
    }
    for (const text of ['sub', 'iss'] as const) {
      if (claims[text] !== undefined && typeof claims[text] !== 'string') throw unauthorized('invalid token');
    }
    if (claims.iss !== opts.issuer) throw unauthorized('token claim "iss" is invalid');
    const aud = claims.aud;
    const audOk = typeof aud === 'string' ? aud === opts.audience : Array.isArray(aud) && aud.includes(opts.audience);
    if (!audOk) throw unauthorized('token claim "aud" is invalid');
    for (const claim of USER_TOKEN_POLICY.requiredClaims) {
      if (claims[claim] === undefined) throw unauthorized(`token claim "${claim}" is invalid`);
    }
    const tolerance = USER_TOKEN_POLICY.clockToleranceSeconds;
    if ((claims.exp as number) <= now - tolerance) throw unauthorized('token expired');
    if (claims.nbf !== undefined && (claims.nbf as number) > now + tolerance) throw unauthorized('token claim "nbf" is invalid');
    if (typeof claims.username !== 'string') throw unauthorized('token lacks required claims');
    return { id: claims.sub as string, username: claims.username, exp: claims.exp as number };
  }

  return {
    get keyCount() {
      return keys.size;
    },
    refresh,
    verify,
    async verifyOrFetch(token) {
      const known = verify(token);
      if (known) return known;
      await refresh();
      const user = verify(token);
      if (user) return user;
      if (lastFetchFailed || keys.size === 0) throw new RequestError(503, 'unavailable', 'cannot verify tokens right now: the key set is unreachable');
      throw unauthorized('token signed by an unknown key');
    },
    start() {
      // Until the first key set is in, retry every couple of seconds (Auth may start later).
      const firstLoad = () =>
        void refresh(true).then(() => {
          if (keys.size === 0 && timer !== undefined) setTimeout(firstLoad, 2_000).unref();
        });
      timer ??= setInterval(() => void refresh(true), opts.refreshEveryMs ?? 5 * 60_000);
      timer.unref();
      firstLoad();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
