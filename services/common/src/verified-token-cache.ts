/**
 * Invariant: a token answered from the cache was accepted by the full check (signature, pinned
 * algorithm, issuer, audience, required claims) at most `maxAgeMs` ago, and its `exp` has not
 * passed. Anything else meets the full check.
 *
 * Why: an ES256 signature check costs the event loop 120–190 µs, and it runs on every request,
 * before admission, so a request that is then shed pays it too. Profiled in
 * tests/system/overload (2026-12-01): 10.5 of Chat's 67.7 busy CPU-seconds were signature
 * checks, of tokens it had already checked: a client sends all its requests with one token.
 *
 * What a cache could weaken, and why it does not:
 * - Only acceptances are kept. A forged, expired or foreign token is checked in full every
 *   time, and a flood of them neither fills the cache nor evicts anything.
 * - An entry ends at the token's `exp`, without the check's clock tolerance: past it the full
 *   check decides, with the tolerance.
 * - A key Auth withdraws from its key set stays honoured for at most `maxAgeMs` more. The
 *   remote key set is already trusted for 10 minutes between fetches (jwt.ts), so this adds
 *   nothing an operator must plan for; user tokens are not revocable before `exp` either
 *   (README, "Reliability and security").
 *
 * Concurrent checks of one token share one verification (a restarted pod meets every client's
 * token at once). Cost: one Map lookup per request; at most `maxEntries` entries (the token
 * string and its user, under 1 KB), the oldest inserted evicted first. The clock is injectable.
 */
export interface VerifiedTokenCacheOptions {
  /** How long an acceptance is reused; default 60 s. */
  maxAgeMs?: number;
  /** Tokens kept at most; default 10,000. */
  maxEntries?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** What a check accepted: at least the token's expiry, in seconds since the epoch (jwt.ts's TokenUser). */
interface Accepted {
  exp: number;
}

interface Entry<T> {
  checkedAt: number;
  result: Promise<T>;
  /** Set once the check accepted the token. */
  accepted?: T;
}

/** `verify` (jwt.ts's VerifyUserToken) with its acceptances reused, under the invariant above. */
export function cachingTokenVerifier<T extends Accepted>(verify: (token: string) => Promise<T>, opts: VerifiedTokenCacheOptions = {}): (token: string) => Promise<T> {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry<T>>();

  return (token) => {
    const at = now();
    const hit = entries.get(token);
    if (hit) {
      const fresh = at - hit.checkedAt < maxAgeMs && (hit.accepted === undefined || at < hit.accepted.exp * 1000);
      if (fresh) return hit.result;
      entries.delete(token);
    }
    const entry: Entry<T> = { checkedAt: at, result: verify(token) };
    entries.set(token, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    entry.result.then(
      (accepted) => void (entry.accepted = accepted),
      // A refusal is never kept: the next request with this token is checked in full again.
      () => void (entries.get(token) === entry && entries.delete(token)),
    );
    return entry.result;
  };
}
