import type { ChatMessage } from '@chat/common/contracts';

/** One page of Chat's `GET /chat/sync`: messages after the cursor, oldest first. */
export interface SyncPage {
  messages: (ChatMessage & { cursor?: string })[];
  /** The cursor to pass next time (the last message's, or the one sent when nothing is new). */
  cursor: string;
  hasMore: boolean;
}

export type SyncFailure = 'invalid_cursor' | 'unauthorized' | 'unavailable';

export class SyncError extends Error {
  constructor(readonly kind: SyncFailure, message: string) {
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

/**
 * Reads replays from Chat with the user's own token: the gateway has no database, and Chat
 * decides what the user may read (a cursor of another user is Chat's 400).
 */
export function createChatSyncClient(opts: { chatUrl: string; timeoutMs?: number }): ReadSyncPage {
  return async (token, after, limit) => {
    const url = `${opts.chatUrl}/chat/sync?after=${encodeURIComponent(after)}&limit=${limit}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
    } catch (err) {
      throw new SyncError('unavailable', `chat unreachable: ${(err as Error).message}`);
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
      throw new SyncError('unavailable', `chat answered ${res.status}`);
    }
    const body = (await res.json().catch(() => undefined)) as Partial<SyncPage> | undefined;
    if (!body || !Array.isArray(body.messages) || !body.messages.every(isMessage) || !isString(body.cursor) || typeof body.hasMore !== 'boolean') {
      throw new SyncError('unavailable', 'chat answered an unexpected sync body');
    }
    return body as SyncPage;
  };
}
