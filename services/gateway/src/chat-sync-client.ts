import type { ChatMessage } from '@chat/common/contracts';

/** One page of Chat's `GET /chat/sync`: messages after the cursor, oldest first. */
export interface SyncPage {
  messages: (ChatMessage & { cursor?: string })[];
  /** The cursor to pass next time (the last message's, or the one sent when nothing is new). */
  cursor: string;
  hasMore: boolean;
}

export type SyncFailure = 'invalid_cursor' | 'unauthorized' | 'unavailable';

/**
 * Why a read failed that may work if tried again later (label of gateway_replay_retries_total):
 * Chat shed it (503, or 502/504 from a proxy, or 429), it timed out, or Chat could not be
 * reached at all (restarting).
 */
export type TransientSyncFailure = 'shed' | 'timeout' | 'unreachable';
export const TRANSIENT_SYNC_FAILURES: readonly TransientSyncFailure[] = ['shed', 'timeout', 'unreachable'];

export class SyncError extends Error {
  constructor(
    readonly kind: SyncFailure,
    message: string,
    /** Set when trying again later may work; anything else (a 500, a bad body) fails the replay at once. */
    readonly transient?: TransientSyncFailure,
    /** Chat's Retry-After, in ms, when it sent one: no retry comes sooner. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

export type ReadSyncPage = (token: string, after: string, limit: number) => Promise<SyncPage>;

const isString = (v: unknown): v is string => typeof v === 'string';

function isMessage(v: unknown): v is ChatMessage {
  const m = v as Partial<ChatMessage> | null;
  return typeof m === 'object' && m !== null && isString(m.id) && isString(m.from) && (m.to === undefined || isString(m.to)) && isString(m.text) && isString(m.createdAt);
}

/** Statuses that say "not now" rather than "never": Chat's admission (503), a proxy's 502/504, a rate limit. */
const SHED_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * A Retry-After header in ms (delay-seconds or an HTTP date), or undefined when absent or not
 * understood. Never negative.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month ("Tue, 01 Dec 2026 12:00:05 GMT"); Date.parse alone
  // would also take "-1" for a year.
  const at = /^[A-Za-z]{3}, /.test(text) ? Date.parse(text) : NaN;
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * Reads replays from Chat with the user's own token: the gateway has no database, and Chat
 * decides what the user may read (a cursor of another user is Chat's 400). A failure that may
 * pass (see {@link TransientSyncFailure}) is marked so, with Chat's Retry-After; the caller
 * (socket-streams.ts) decides whether to try again.
 */
export function createChatSyncClient(opts: { chatUrl: string; timeoutMs?: number }): ReadSyncPage {
  return async (token, after, limit) => {
    const url = `${opts.chatUrl}/chat/sync?after=${encodeURIComponent(after)}&limit=${limit}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new SyncError('unavailable', `chat ${timedOut ? 'did not answer in time' : 'unreachable'}: ${(err as Error).message}`, timedOut ? 'timeout' : 'unreachable');
    }
    if (res.status === 400) {
      await res.body?.cancel();
      throw new SyncError('invalid_cursor', 'chat rejected the cursor');
    }
    if (res.status === 401) {
      await res.body?.cancel();
      throw new SyncError('unauthorized', 'chat rejected the token');
    }
    if (!res.ok) {
      await res.body?.cancel();
      const shed = SHED_STATUSES.has(res.status);
      throw new SyncError('unavailable', `chat answered ${res.status}`, shed ? 'shed' : undefined, shed ? parseRetryAfter(res.headers.get('retry-after')) : undefined);
    }
    let body: Partial<SyncPage> | undefined;
    try {
      body = (await res.json()) as Partial<SyncPage>;
    } catch (err) {
      // The timeout covers the body too: a body cut off by it is a slow Chat, not a bad answer.
      if ((err as Error).name === 'TimeoutError') throw new SyncError('unavailable', 'chat did not finish its answer in time', 'timeout');
    }
    if (!body || !Array.isArray(body.messages) || !body.messages.every(isMessage) || !isString(body.cursor) || typeof body.hasMore !== 'boolean') {
      throw new SyncError('unavailable', 'chat answered an unexpected sync body');
    }
    return body as SyncPage;
  };
}
