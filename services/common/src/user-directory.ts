/**
 * @chat/common/user-directory — username to user through Auth, for Chat and the gateway (Auth
 * owns the users). One file, so it is its own entry point.
 *
 * Package: lru-cache. Imports contracts and the concurrency limiter (no package).
 */
import { LRUCache } from 'lru-cache';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import { RequestError } from './errors.js';
import { isUsername, usernameKey } from './username.js';

export interface DirectoryUser {
  id: string;
  username: string;
}

export interface UserDirectoryOptions {
  authUrl: string;
  /** The credential sent to Auth: a service token source. */
  credential: () => Promise<string>;
  max?: number;
  ttlMs?: number;
  /** Unknown users are remembered for less time, so a fresh registration is seen quickly. */
  negativeTtlMs?: number;
  timeoutMs?: number;
  /**
   * Lookups in flight to Auth at once (default 16); more wait their turn. Auth bounds the
   * requests it works on (admission, 32 per process by default) and sheds a burst beyond them
   * with 503: a group of 1,000 new members resolved at once would be refused, not slowed.
   */
  maxConcurrent?: number;
  onHit?: () => void;
  onMiss?: () => void;
}

export interface UserDirectory {
  /** The user by name, ignoring ASCII letter case; null when Auth says 404 or the name breaks the username rule. Throws 503 when Auth is unreachable. */
  resolve(username: string): Promise<DirectoryUser | null>;
}

const NOT_FOUND = Symbol('not-found');
type Entry = DirectoryUser | typeof NOT_FOUND;

/**
 * Username → user resolution through Auth's `GET /users/:username`, behind an LRU+TTL cache.
 * Concurrent misses for one name share a single request (lru-cache's fetch coalesces them),
 * so a burst of events for one user costs one lookup.
 */
export function createUserDirectory(opts: UserDirectoryOptions): UserDirectory {
  const negativeTtl = opts.negativeTtlMs ?? 2_000;
  // Names whose Auth request is under way: a resolution that joins one costs no request of its
  // own, so it counts as a hit. (lru-cache's `has` is false until the fetch settles, so without
  // this a burst for a new name counted neither as hits nor as misses, by timing.)
  const inFlight = new Set<string>();
  const maxConcurrent = opts.maxConcurrent ?? 16;
  const lookups = new ConcurrencyLimiter(maxConcurrent);
  const cache = new LRUCache<string, Entry>({
    max: opts.max ?? 50_000,
    ttl: opts.ttlMs ?? 60_000,
    fetchMethod: async (key, _stale, { options }) => {
      opts.onMiss?.();
      inFlight.add(key);
      try {
        return await lookups.run(() => lookup(key, options));
      } finally {
        inFlight.delete(key);
      }
    },
  });
  /** One request to Auth; a 404 is cached briefly as "no such user". */
  async function lookup(key: string, options: { ttl?: number }): Promise<Entry> {
    const res = await fetch(`${opts.authUrl}/users/${encodeURIComponent(key)}`, {
      headers: { authorization: `Bearer ${await opts.credential()}` },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 3_000),
    }).catch((err: unknown) => {
      throw new RequestError(503, 'unavailable', `user directory unreachable: ${(err as Error).message}`);
    });
    if (res.status === 404) {
      options.ttl = negativeTtl;
      return NOT_FOUND;
    }
    if (!res.ok) throw new RequestError(503, 'unavailable', `user directory answered ${res.status}`);
    const body = (await res.json()) as Partial<DirectoryUser>;
    if (typeof body.id !== 'string' || typeof body.username !== 'string') {
      throw new RequestError(503, 'unavailable', 'user directory answered an unexpected body');
    }
    return { id: body.id, username: body.username };
  }
  return {
    async resolve(username) {
      // A string outside the username rule names nobody, whatever Unicode folding would make of
      // it (the Kelvin sign is not "k"): no request, and no cache entry.
      if (!isUsername(username)) return null;
      const key = usernameKey(username);
      if (cache.has(key) || inFlight.has(key)) opts.onHit?.();
      const entry = await cache.fetch(key);
      return entry === undefined || entry === NOT_FOUND ? null : entry;
    },
  };
}
