/**
 * What the page keeps in localStorage, per browser profile and shared by its tabs:
 * - the session (token and user), so a second tab opens logged in and a logout or a new login
 *   in one tab reaches the others (the `storage` event);
 * - per user, the stream position: the gateway cursor with the messages the conversation list
 *   was built from, written together under one key so they always match. A reload resumes
 *   from that cursor (the gateway replays only what came after it) instead of fetching the
 *   whole stream again;
 * - per user, the read marks (peer → id of the newest message shown), so unread counts agree
 *   across tabs.
 * Everything read back is checked: a value another version wrote, or a hand-edited one, reads
 * as absent instead of breaking the page.
 */
import type { ChatMessage, User } from '@chat/client-core';

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
  constructor(private readonly kv: KeyValue) {}

  loadSession(): StoredSession | undefined {
    const v = this.read(SESSION_KEY) as Partial<StoredSession> | undefined;
    if (typeof v?.token !== 'string' || typeof v.expiresAt !== 'number' || typeof v.user?.username !== 'string' || typeof v.user.id !== 'string') return undefined;
    return { token: v.token, user: { id: v.user.id, username: v.user.username }, expiresAt: v.expiresAt };
  }

  saveSession(session: StoredSession): void {
    this.write(SESSION_KEY, session);
  }

  /** Forgets the session, unless another tab has meanwhile stored a different one. */
  clearSession(token: string): void {
    if (this.loadSession()?.token === token) this.kv.removeItem(SESSION_KEY);
  }

  loadStream(username: string): StoredStream | undefined {
    const v = this.read(streamKey(username)) as Partial<StoredStream> | undefined;
    if (typeof v?.cursor !== 'string' || !Array.isArray(v.messages) || !v.messages.every(isMessage)) return undefined;
    return { cursor: v.cursor, messages: v.messages };
  }

  saveStream(username: string, stream: StoredStream): void {
    const kept = { cursor: stream.cursor, messages: trimStream(stream.messages, username, STREAM_KEEP) };
    // Over quota: drop the copy rather than keep a stale one; the next load syncs from scratch.
    if (!this.write(streamKey(username), kept)) this.kv.removeItem(streamKey(username));
  }

  forgetStream(username: string): void {
    this.kv.removeItem(streamKey(username));
  }

  loadReadMarks(username: string): Record<string, string> {
    const v = this.read(readKey(username));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  saveReadMarks(username: string, marks: Record<string, string>): void {
    this.write(readKey(username), marks);
  }

  private read(key: string): unknown {
    try {
      const raw = this.kv.getItem(key);
      return raw === null ? undefined : JSON.parse(raw);
    } catch {
      return undefined;
    }
  }

  private write(key: string, value: unknown): boolean {
    try {
      this.kv.setItem(key, JSON.stringify(value));
      return true;
    } catch {
      return false;
    }
  }
}

function isMessage(m: unknown): m is ChatMessage {
  const x = m as ChatMessage;
  return typeof x === 'object' && x !== null && typeof x.id === 'string' && typeof x.from === 'string' && typeof x.to === 'string' && typeof x.text === 'string' && typeof x.createdAt === 'string';
}

/**
 * The newest `keep` messages, plus the newest message of every older conversation, so the
 * list still shows every peer after a reload. In stream order. (An older conversation's
 * unread count can come back lower than it was: only its last message is kept.)
 */
export function trimStream(messages: readonly ChatMessage[], me: string, keep: number): ChatMessage[] {
  if (messages.length <= keep) return [...messages];
  const cut = messages.length - keep;
  const lastOfPeer = new Map<string, number>();
  messages.forEach((m, i) => lastOfPeer.set((m.from.toLowerCase() === me.toLowerCase() ? m.to : m.from).toLowerCase(), i));
  const older = new Set([...lastOfPeer.values()].filter((i) => i < cut));
  return messages.filter((_, i) => i >= cut || older.has(i));
}
