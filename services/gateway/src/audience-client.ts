import type { NewMessageEvent } from '@chat/common/contracts';
import { LRUCache } from 'lru-cache';

/**
 * Who a signal is for, asked of Chat (the gateway has no database): the members of a group
 * (typing goes to them) and a user's contacts, everyone sharing a conversation with them
 * (presence changes go to them). Chat answers on its internal routes, to a service token.
 *
 * Both are cached for `ttlMs`, because typing repeats every few seconds per conversation and a
 * presence change needs the contacts of one user on every pod. A cached answer can be stale by
 * a membership change: every pod sees every message event, and a group's system message (a
 * member added, removed, left) or a first 1:1 message drops the entries it changes (see
 * `forget*`), so staleness lasts the few milliseconds until that event arrives, and `ttlMs` at
 * worst. Concurrent contact lookups are batched into one request of up to BATCH_MAX users.
 *
 * Cost: one cache entry per group typed in and per user whose presence changed, within the TTL.
 */
export interface Audience {
  /** A group's member ids; undefined when Chat has no such group. */
  members(conversationId: string): Promise<string[] | undefined>;
  /** A user's contacts (never the user). */
  contacts(userId: string): Promise<ReadonlySet<string>>;
  forgetConversation(conversationId: string): void;
  forgetContacts(userId: string): void;
  /** A first 1:1 message: each side gains the other, if we cached either. */
  noteDirect(a: string, b: string): void;
}

const BATCH_MAX = 200;

/**
 * Drops what a stored message may have changed: a group's system message (membership), a 1:1
 * message (a new contact). `recipients` are the event's cursor keys, when the caller has them.
 */
export function forgetWhatChanged(audience: Audience, event: NewMessageEvent, recipients = Object.keys(event.cursors)): void {
  const { message } = event;
  if (message.kind === 'system' && message.conversationId !== undefined) {
    audience.forgetConversation(message.conversationId);
    for (const id of recipients) audience.forgetContacts(id);
  } else if (message.to !== undefined && recipients.length === 2) {
    audience.noteDirect(recipients[0]!, recipients[1]!);
  }
}

export function createAudienceClient(opts: { chatUrl: string; credential: () => Promise<string>; ttlMs?: number; max?: number; timeoutMs?: number }): Audience {
  const ttl = opts.ttlMs ?? 15_000;
  const max = opts.max ?? 50_000;
  const timeout = opts.timeoutMs ?? 5_000;
  const memberCache = new LRUCache<string, Promise<string[] | undefined>>({ max, ttl });
  const contactCache = new LRUCache<string, Promise<Set<string>>>({ max, ttl });
  let queued = new Map<string, { resolve: (s: Set<string>) => void; reject: (e: unknown) => void }[]>();
  let scheduled = false;

  async function call(path: string, init: { method: string; body?: unknown }): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${await opts.credential()}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${opts.chatUrl}${path}`, {
      method: init.method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(timeout),
    });
  }

  async function fetchContacts(userIds: string[]): Promise<Record<string, string[]>> {
    const res = await call('/internal/contacts', { method: 'POST', body: { userIds } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`chat answered ${res.status} to a contacts lookup`);
    }
    const body = (await res.json()) as { contacts?: Record<string, string[]> };
    if (typeof body.contacts !== 'object' || body.contacts === null) throw new Error('chat answered an unexpected contacts body');
    return body.contacts;
  }

  function flush(): void {
    scheduled = false;
    const batch = queued;
    queued = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += BATCH_MAX) {
      const part = ids.slice(i, i + BATCH_MAX);
      fetchContacts(part).then(
        (found) => {
          for (const id of part) for (const waiter of batch.get(id)!) waiter.resolve(new Set(found[id] ?? []));
        },
        (err: unknown) => {
          for (const id of part) for (const waiter of batch.get(id)!) waiter.reject(err);
        },
      );
    }
  }

  return {
    members(conversationId) {
      let found = memberCache.get(conversationId);
      if (!found) {
        found = call(`/internal/conversations/${encodeURIComponent(conversationId)}/members`, { method: 'GET' }).then(async (res) => {
          if (res.status === 404) {
            await res.body?.cancel();
            return undefined;
          }
          if (!res.ok) {
            await res.body?.cancel();
            throw new Error(`chat answered ${res.status} to a members lookup`);
          }
          const body = (await res.json()) as { memberIds?: unknown };
          if (!Array.isArray(body.memberIds)) throw new Error('chat answered an unexpected members body');
          return body.memberIds as string[];
        });
        memberCache.set(conversationId, found);
        // A failure is not remembered: the next frame asks again.
        found.catch(() => memberCache.delete(conversationId));
      }
      return found;
    },

    contacts(userId) {
      let found = contactCache.get(userId);
      if (!found) {
        found = new Promise<Set<string>>((resolve, reject) => {
          const waiters = queued.get(userId) ?? [];
          waiters.push({ resolve, reject });
          queued.set(userId, waiters);
          if (!scheduled) {
            scheduled = true;
            setTimeout(flush, 5);
          }
        });
        contactCache.set(userId, found);
        found.catch(() => contactCache.delete(userId));
      }
      return found;
    },

    forgetConversation(conversationId) {
      memberCache.delete(conversationId);
    },

    forgetContacts(userId) {
      contactCache.delete(userId);
    },

    noteDirect(a, b) {
      if (a === b) return;
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const cached = contactCache.get(x);
        if (cached) void cached.then((set) => set.add(y), () => undefined);
      }
    },
  };
}
