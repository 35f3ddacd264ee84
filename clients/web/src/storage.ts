/**
 * What the page keeps, in two stores:
 * - the tab's own (sessionStorage in the page): the session, token and user. It survives a
 *   reload of that tab but no other tab sees it, so two tabs of one browser can be two users,
 *   Alice in one and Bob in the other, and a login or logout in one tab leaves the others as
 *   they were. (A tab the browser duplicates starts with a copy, then goes its own way.)
 * - the shared one (localStorage, per browser profile): what belongs to a user rather than to
 *   a tab, so that two tabs of the same user agree:
 *   - the stream position: the gateway cursor with the messages the conversation list was
 *     built from, written together under one key so they always match. A reload, or a new tab
 *     once logged in, resumes from that cursor (the gateway replays only what came after it)
 *     instead of fetching the whole stream again;
 *   - the read marks (conversation key, the peer's name or the group's id → id of the newest
 *     message shown), whose `storage` event keeps the
 *     unread counts of that user's other tabs in step.
 * Everything read back is checked: a value another version wrote, or a hand-edited one, reads
 * as absent instead of breaking the page.
 */
import { conversationKey, type ChatMessage, type User } from '@chat/client-core';

export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface StoredSession {
  token: string;
  user: User;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface StoredStream {
  cursor: string;
  messages: ChatMessage[];
}

export const SESSION_KEY = 'chat.session';
export const streamKey = (username: string) => `chat.stream.${username.toLowerCase()}`;
export const readKey = (username: string) => `chat.read.${username.toLowerCase()}`;

/** How many messages of the stream are kept for the next page load (at 4,000 characters each at worst, this stays under localStorage's 5 MB). */
export const STREAM_KEEP = 300;

export class PageStorage {
  /** `tab`: this tab's own store, for the session; `shared`: the store all tabs share, for per-user data. */
  constructor(
    private readonly tab: KeyValue,
    private readonly shared: KeyValue,
  ) {}

  loadSession(): StoredSession | undefined {
    const v = read(this.tab, SESSION_KEY) as Partial<StoredSession> | undefined;
    if (typeof v?.token !== 'string' || typeof v.expiresAt !== 'number' || typeof v.user?.username !== 'string' || typeof v.user.id !== 'string') return undefined;
    return { token: v.token, user: { id: v.user.id, username: v.user.username }, expiresAt: v.expiresAt };
  }

  saveSession(session: StoredSession): void {
    write(this.tab, SESSION_KEY, session);
  }

  /** Forgets the session, unless a later login in this tab has already replaced it. */
  clearSession(token: string): void {
    if (this.loadSession()?.token === token) this.tab.removeItem(SESSION_KEY);
  }

  loadStream(username: string): StoredStream | undefined {
    const v = read(this.shared, streamKey(username)) as Partial<StoredStream> | undefined;
    if (typeof v?.cursor !== 'string' || !Array.isArray(v.messages) || !v.messages.every(isMessage)) return undefined;
    return { cursor: v.cursor, messages: v.messages };
  }

  saveStream(username: string, stream: StoredStream): void {
    const kept = { cursor: stream.cursor, messages: trimStream(stream.messages, username, STREAM_KEEP) };
    // Over quota: drop the copy rather than keep a stale one; the next load syncs from scratch.
    if (!write(this.shared, streamKey(username), kept)) this.shared.removeItem(streamKey(username));
  }

  forgetStream(username: string): void {
    this.shared.removeItem(streamKey(username));
  }

  loadReadMarks(username: string): Record<string, string> {
    const v = read(this.shared, readKey(username));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  saveReadMarks(username: string, marks: Record<string, string>): void {
    write(this.shared, readKey(username), marks);
  }
}

function read(kv: KeyValue, key: string): unknown {
  try {
    const raw = kv.getItem(key);
    return raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** False when the value could not be stored (over quota, or storage refused). */
function write(kv: KeyValue, key: string, value: unknown): boolean {
  try {
    kv.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

/** A 1:1 message has a recipient; a group's (text or system) has a conversation id instead. */
function isMessage(m: unknown): m is ChatMessage {
  const x = m as ChatMessage;
  if (typeof x !== 'object' || x === null) return false;
  const addressed = typeof x.to === 'string' || (x.to === undefined && typeof x.conversationId === 'string');
  return addressed && typeof x.id === 'string' && typeof x.from === 'string' && typeof x.text === 'string' && typeof x.createdAt === 'string';
}

/**
 * The newest `keep` messages, plus the newest message of every older conversation (1:1 or
 * group), so the
 * list still shows every peer after a reload. In stream order. (An older conversation's
 * unread count can come back lower than it was: only its last message is kept.)
 */
export function trimStream(messages: readonly ChatMessage[], me: string, keep: number): ChatMessage[] {
  if (messages.length <= keep) return [...messages];
  const cut = messages.length - keep;
  const lastOfPeer = new Map<string, number>();
  messages.forEach((m, i) => lastOfPeer.set(conversationKey(m, me).toLowerCase(), i));
  const older = new Set([...lastOfPeer.values()].filter((i) => i < cut));
  return messages.filter((_, i) => i >= cut || older.has(i));
}
