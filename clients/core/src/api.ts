/**
 * The three services' HTTP APIs as a client sees them (README "API"). Every failure becomes one
 * of two errors, so callers branch on kind, not on fetch's many shapes:
 * - `ApiError`: the server answered with the `{"error":{"code","message"}}` envelope (or at
 *   least a status); `retryAfterSeconds` carries `Retry-After` when the server sent one.
 * - `UnreachableError`: no answer at all (refused, reset, DNS, timeout).
 *
 * `fetch` is injectable; the browser's and Node's global fetch both fit.
 */
import type { ChatMessage, ConversationListEntry, ConversationPage, GroupConversation, GroupRole, PresenceEntry, ReadResult, Receipts, SendTarget } from './conversation-types.ts';

export type { ChatMessage };

export interface User {
  id: string;
  username: string;
}

export interface Session {
  token: string;
  expiresIn: number;
  user: User;
}

export interface Endpoints {
  authUrl: string;
  chatUrl: string;
  gatewayUrl: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';

  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${url}: ${reason}`);
  }
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  fetch?: Fetch;
  /** Per request; a server that does not answer by then counts as unreachable. */
  timeoutMs?: number;
}

/** A fresh idempotency key: a send retried with it is stored once (Chat answers 200 with the original). */
export function newClientMsgId(): string {
  return globalThis.crypto.randomUUID();
}

export class ChatApi {
  private readonly fetch: Fetch;
  private readonly timeoutMs: number;

  constructor(
    readonly endpoints: Endpoints,
    options: ApiOptions = {},
  ) {
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  register(username: string, password: string): Promise<User> {
    return this.call<User>(this.endpoints.authUrl, '/register', { method: 'POST', body: { username, password } });
  }

  login(username: string, password: string): Promise<Session> {
    return this.call<Session>(this.endpoints.authUrl, '/login', { method: 'POST', body: { username, password } });
  }

  /**
   * `to` (a username) for a 1:1, `conversationId` for a group (or a `dm:` id). `created` is false
   * when Chat recognised `clientMsgId` and answered with the stored original.
   */
  async send(token: string, input: SendTarget & { text: string; clientMsgId?: string }): Promise<{ message: ChatMessage; created: boolean }> {
    // Exactly one of the two: Chat refuses both or neither (400).
    const target = input.conversationId !== undefined ? { conversationId: input.conversationId } : { to: input.to };
    const body = { ...target, text: input.text, clientMsgId: input.clientMsgId ?? newClientMsgId() };
    const { status, json } = await this.request<{ message: ChatMessage }>(this.endpoints.chatUrl, '/chat/send', { method: 'POST', body, token });
    return { message: json.message, created: status === 201 };
  }

  /** One page of a conversation, newest first: `with` a username (1:1) or `conversation` an id. */
  history(token: string, query: ({ with: string } | { conversation: string }) & { limit?: number; before?: string | null }): Promise<{ messages: ChatMessage[]; nextBefore: string | null }> {
    const which = 'conversation' in query ? { conversation: query.conversation } : { with: query.with };
    return this.call(this.endpoints.chatUrl, '/chat/history', { token, query: { ...which, limit: query.limit, before: query.before ?? undefined } });
  }

  /** The caller's conversations, groups and 1:1, most recent activity first. */
  conversations(token: string, query: { limit?: number; before?: string | null } = {}): Promise<ConversationPage> {
    return this.call(this.endpoints.chatUrl, '/conversations', { token, query: { limit: query.limit, before: query.before ?? undefined } });
  }

  /** Every page of `conversations` (`maxPages` bounds the walk). */
  async allConversations(token: string, maxPages = 20): Promise<{ conversations: ConversationListEntry[]; complete: boolean }> {
    const conversations: ConversationListEntry[] = [];
    let before: string | null = null;
    for (let page = 0; page < maxPages; page++) {
      const res: ConversationPage = await this.conversations(token, { limit: 100, before });
      conversations.push(...res.conversations);
      before = res.nextBefore;
      if (before === null) return { conversations, complete: true };
    }
    return { conversations, complete: false };
  }

  async group(token: string, id: string): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, conversationPath(id), { token })).conversation;
  }

  /** The caller becomes the owner; `members` are usernames. */
  async createGroup(token: string, input: { name: string; members: string[] }): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, '/conversations', { method: 'POST', token, body: input })).conversation;
  }

  async renameGroup(token: string, id: string, name: string): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, conversationPath(id), { method: 'PATCH', token, body: { name } })).conversation;
  }

  async addMembers(token: string, id: string, members: string[]): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, `${conversationPath(id)}/members`, { method: 'POST', token, body: { members } })).conversation;
  }

  /** Removes someone else (owner or admin). Removing yourself is `leaveGroup`, which Chat answers differently (204). */
  async removeMember(token: string, id: string, username: string): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, memberPath(id, username), { method: 'DELETE', token })).conversation;
  }

  async leaveGroup(token: string, id: string, me: string): Promise<void> {
    await this.request(this.endpoints.chatUrl, memberPath(id, me), { method: 'DELETE', token });
  }

  async setRole(token: string, id: string, username: string, role: Exclude<GroupRole, 'owner'>): Promise<GroupConversation> {
    return (await this.call<{ conversation: GroupConversation }>(this.endpoints.chatUrl, memberPath(id, username), { method: 'PATCH', token, body: { role } })).conversation;
  }

  /**
   * Moves the caller's read mark in `conversationId` (a group's `g:…` or a 1:1's `dm:…`) up to
   * `messageId`. A high-water mark: an older message leaves it where it is, and the answer says where.
   */
  markRead(token: string, conversationId: string, messageId: string): Promise<ReadResult> {
    return this.call(this.endpoints.chatUrl, `${conversationPath(conversationId)}/read`, { method: 'POST', token, body: { messageId } });
  }

  /** Every member's read mark (only the counts for a group above RECEIPTS_MAX_MEMBERS). */
  receipts(token: string, conversationId: string): Promise<Receipts> {
    return this.call(this.endpoints.chatUrl, `${conversationPath(conversationId)}/receipts`, { token });
  }

  /**
   * Online, offline (with `lastSeen`) or unknown, per username, in the order asked. Asks in
   * batches of `PRESENCE_BATCH` (Chat's limit per call).
   */
  async presence(token: string, usernames: readonly string[]): Promise<PresenceEntry[]> {
    const out: PresenceEntry[] = [];
    for (let i = 0; i < usernames.length; i += PRESENCE_BATCH) {
      const batch = usernames.slice(i, i + PRESENCE_BATCH);
      const res = await this.call<{ users: PresenceEntry[] }>(this.endpoints.chatUrl, '/presence', { token, query: { users: batch.join(',') } });
      out.push(...res.users);
    }
    return out;
  }

  sync(token: string, query: { after?: string | null; limit?: number } = {}): Promise<{ messages: ChatMessage[]; cursor: string; hasMore: boolean }> {
    return this.call(this.endpoints.chatUrl, '/chat/sync', { token, query: { after: query.after ?? undefined, limit: query.limit } });
  }

  /** Every message after `after`, oldest first, walking `sync` pages (`maxPages` bounds the walk). */
  async syncAll(token: string, after?: string | null, maxPages = 100): Promise<{ messages: ChatMessage[]; cursor: string | null; complete: boolean }> {
    const messages: ChatMessage[] = [];
    let cursor = after ?? null;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.sync(token, { after: cursor, limit: 500 });
      messages.push(...res.messages);
      cursor = res.cursor;
      if (!res.hasMore) return { messages, cursor, complete: true };
    }
    return { messages, cursor, complete: false };
  }

  /** Whether Chat still accepts `token` (false only on a 401; other failures throw). */
  async tokenAccepted(token: string): Promise<boolean> {
    try {
      await this.sync(token, { limit: 1 });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return false;
      throw err;
    }
  }

  private async call<T>(base: string, path: string, opts: RequestOptions): Promise<T> {
    return (await this.request<T>(base, path, opts)).json;
  }

  private async request<T>(base: string, path: string, opts: RequestOptions): Promise<{ status: number; json: T }> {
    const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetch(url.toString(), {
        method: opts.method ?? 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new UnreachableError(url.origin, e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.message));
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return { status: res.status, json: json as T };
    const envelope = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      typeof envelope?.code === 'string' ? envelope.code : `http_${res.status}`,
      typeof envelope?.message === 'string' ? envelope.message : `${res.status} ${res.statusText}`.trim(),
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}

/** The most usernames one `GET /presence` takes. */
export const PRESENCE_BATCH = 100;

// Ids hold ':' (`g:…`), encoded so that no router mistakes them for anything but one segment.
const conversationPath = (id: string) => `/conversations/${encodeURIComponent(id)}`;
const memberPath = (id: string, username: string) => `${conversationPath(id)}/members/${encodeURIComponent(username)}`;

interface RequestOptions {
  method?: string;
  body?: unknown;
  token?: string;
  query?: Record<string, string | number | undefined>;
}
