/**
 * Typing indicators, both ways (issue 14).
 *
 * Receiving: the gateway sends `{"type":"typing","conversationId","user"}` at most once per 3 s
 * per typer while they type, and nothing when they stop. So "X is typing…" is shown for
 * `ttlMs` (5 s) after the last frame per (user, conversation): long enough to bridge the 3 s
 * between frames with some network jitter, short enough that a typer who gave up stops showing
 * soon. A message from that user in that conversation ends it at once (they were typing it).
 *
 * Sending: `TypingSender` sends at most one `typing` frame per `intervalMs` (3 s) per
 * conversation while the user types, the rate the gateway passes on anyway: anything more
 * would only be dropped there.
 *
 * Both take an injectable clock; neither sets timers. A screen asks `nextChange()` when to
 * draw again.
 */
import type { UserRef } from './conversation-types.ts';
import { sameUsername } from '@chat/common/contracts';

export const TYPING_SHOW_MS = 5_000;
export const TYPING_SEND_INTERVAL_MS = 3_000;

interface Typist {
  user: UserRef;
  until: number;
}

export class TypingTracker {
  /** conversationId → user id → who and until when. */
  private readonly byConversation = new Map<string, Map<string, Typist>>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(options: { now?: () => number; ttlMs?: number } = {}) {
    this.now = options.now ?? (() => Date.now());
    this.ttlMs = options.ttlMs ?? TYPING_SHOW_MS;
  }

  /** A `typing` frame. True when this starts showing the user (they were not shown as typing there). */
  add(conversationId: string, user: UserRef): boolean {
    this.prune();
    let typists = this.byConversation.get(conversationId);
    if (!typists) this.byConversation.set(conversationId, (typists = new Map()));
    const fresh = !typists.has(user.id);
    typists.set(user.id, { user, until: this.now() + this.ttlMs });
    return fresh;
  }

  /** The user sent a message (or left): they are no longer typing there. True when they were shown. */
  clear(conversationId: string, user: { id?: string; username: string }): boolean {
    const typists = this.byConversation.get(conversationId);
    if (!typists) return false;
    for (const [id, t] of typists) {
      if ((user.id !== undefined && id === user.id) || sameUsername(t.user.username, user.username)) {
        typists.delete(id);
        if (typists.size === 0) this.byConversation.delete(conversationId);
        return true;
      }
    }
    return false;
  }

  /** Who is typing in the conversation now, in the order they started. */
  typing(conversationId: string): UserRef[] {
    this.prune();
    return [...(this.byConversation.get(conversationId)?.values() ?? [])].map((t) => t.user);
  }

  /** Conversations with someone typing now. */
  conversations(): string[] {
    this.prune();
    return [...this.byConversation.keys()];
  }

  /** When the next indicator runs out (ms since the epoch, the clock's), or undefined when none shows. */
  nextChange(): number | undefined {
    let next: number | undefined;
    for (const typists of this.byConversation.values()) for (const t of typists.values()) if (next === undefined || t.until < next) next = t.until;
    return next;
  }

  /** Everything, e.g. after a reconnect: frames missed meanwhile are not replayed. */
  reset(): void {
    this.byConversation.clear();
  }

  private prune(): void {
    const now = this.now();
    for (const [conversationId, typists] of this.byConversation) {
      for (const [id, t] of typists) if (t.until <= now) typists.delete(id);
      if (typists.size === 0) this.byConversation.delete(conversationId);
    }
  }
}

/** "bob is typing…", "bob and carol are typing…", "3 people are typing…"; empty for nobody. */
export function typingText(users: readonly { username: string }[]): string {
  if (users.length === 0) return '';
  if (users.length === 1) return `${users[0]!.username} is typing…`;
  if (users.length === 2) return `${users[0]!.username} and ${users[1]!.username} are typing…`;
  return `${users.length} people are typing…`;
}

export class TypingSender {
  /** conversationId → when a frame last went out. */
  private readonly lastSent = new Map<string, number>();
  private readonly now: () => number;
  private readonly intervalMs: number;

  /** `send`: puts the frame on the socket; false when it could not (then the next keystroke tries again). */
  constructor(
    private readonly send: (conversationId: string) => boolean,
    options: { now?: () => number; intervalMs?: number } = {},
  ) {
    this.now = options.now ?? (() => Date.now());
    this.intervalMs = options.intervalMs ?? TYPING_SEND_INTERVAL_MS;
  }

  /** Call on every keystroke that changes the draft. True when a frame went out. */
  typed(conversationId: string): boolean {
    const now = this.now();
    const last = this.lastSent.get(conversationId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (!this.send(conversationId)) return false;
    // Forget conversations long quiet, so the map stays as small as the ones being typed in.
    for (const [id, at] of this.lastSent) if (now - at >= this.intervalMs) this.lastSent.delete(id);
    this.lastSent.set(conversationId, now);
    return true;
  }

  /**
   * The message was sent: its arrival already ends the indicator at the receivers, so the next
   * keystroke may say "typing" again. (The gateway still passes at most one per 3 s.)
   */
  sent(conversationId: string): void {
    this.lastSent.delete(conversationId);
  }
}
