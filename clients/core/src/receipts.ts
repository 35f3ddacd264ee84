/**
 * Read marks (issue 14): per member and conversation, the id of the newest message they have
 * read, a high-water mark that only moves forward. A message the user sends moves their own
 * mark to it (Chat does that itself, with no `read` frame).
 *
 * Where a client learns them, gap-free: `GET /conversations` (`readUpTo`, `unread`,
 * `peerReadUpTo`) at start and again at every reconnect, and the live `read` frames meanwhile.
 * A snapshot can be older than a frame that arrived while it was being fetched, so every
 * source only ever moves a mark forward here too (`ReadMarks`).
 *
 * Order: by the position in the messages a client holds when it holds both (`PositionOf`);
 * otherwise by the ids, which are MongoDB ObjectIds whose first 4 bytes are the creation
 * second, so their hex order is time order (to the second).
 *
 * `ReadReporter` tells Chat what the user has seen: at most one call per conversation in
 * flight, only forward, and none for what Chat already knows.
 */
import type { ConversationListEntry, ReadResult } from './conversation-types.ts';
import type { ReadFrame } from './live.ts';

/** A message's index in an ordered list the caller holds, or undefined when it is not there. */
export type PositionOf = (messageId: string) => number | undefined;

const OBJECT_ID = /^[0-9a-f]{24}$/;

/** Whether message `a` is `b` or came after it (in one conversation). */
export function isAtOrAfter(a: string, b: string, position?: PositionOf): boolean {
  if (a === b) return true;
  const pa = position?.(a);
  const pb = position?.(b);
  if (pa !== undefined && pb !== undefined) return pa >= pb;
  // Neither way to tell: taken as not after, so the newer news replaces a mark.
  return OBJECT_ID.test(a) && OBJECT_ID.test(b) && a > b;
}

/** The later of two marks (either may be missing). */
export function laterMark(a: string | null | undefined, b: string | null | undefined, position?: PositionOf): string | undefined {
  if (!a) return b ?? undefined;
  if (!b) return a;
  return isAtOrAfter(a, b, position) ? a : b;
}

/** What a `read` frame was about, as seen by the user `me`. */
export type ReadFrameKind = 'own' | 'peer' | 'member';

/**
 * The marks a screen needs: the user's own per conversation (for unread counts across
 * devices) and, for a 1:1, the peer's (for "seen"). Keyed by conversation id.
 */
export class ReadMarks {
  private readonly own = new Map<string, string>();
  private readonly peer = new Map<string, string>();

  constructor(private readonly me: { id: string }) {}

  /** A `GET /conversations` page. Returns the conversation ids whose marks moved. */
  fromList(entries: readonly ConversationListEntry[], position?: PositionOf): string[] {
    const moved = new Set<string>();
    for (const e of entries) {
      if (e.readUpTo && this.move(this.own, e.id, e.readUpTo, position)) moved.add(e.id);
      if (e.type === 'direct' && e.peerReadUpTo && this.move(this.peer, e.id, e.peerReadUpTo, position)) moved.add(e.id);
    }
    return [...moved];
  }

  /**
   * A `read` frame. `direct`: whether the conversation is a 1:1 (its id starts with `dm:`).
   * Returns whose mark it was, or undefined when it moved nothing.
   */
  applyFrame(frame: Pick<ReadFrame, 'conversationId' | 'user' | 'readUpTo'>, position?: PositionOf): ReadFrameKind | undefined {
    if (frame.user.id === this.me.id) return this.move(this.own, frame.conversationId, frame.readUpTo, position) ? 'own' : undefined;
    if (!frame.conversationId.startsWith('dm:')) return 'member';
    return this.move(this.peer, frame.conversationId, frame.readUpTo, position) ? 'peer' : undefined;
  }

  /** The user's own mark moved here (an answer to `markRead`, or a message they sent). */
  setOwn(conversationId: string, messageId: string, position?: PositionOf): boolean {
    return this.move(this.own, conversationId, messageId, position);
  }

  ownMark(conversationId: string): string | undefined {
    return this.own.get(conversationId);
  }

  peerMark(conversationId: string): string | undefined {
    return this.peer.get(conversationId);
  }

  private move(marks: Map<string, string>, conversationId: string, messageId: string, position?: PositionOf): boolean {
    const old = marks.get(conversationId);
    if (old !== undefined && isAtOrAfter(old, messageId, position)) return false;
    marks.set(conversationId, messageId);
    return true;
  }
}

/**
 * Whether the peer of a 1:1 has read `mine` (the user's newest message there): their mark is
 * at it or after it.
 */
export function seenByPeer(peerMark: string | undefined, mine: string | undefined, position?: PositionOf): boolean {
  return peerMark !== undefined && mine !== undefined && isAtOrAfter(peerMark, mine, position);
}

export interface ReadReporterOptions {
  /** Chat's answer: the mark it now holds and the unread count after it. */
  onResult?(conversationId: string, result: ReadResult): void;
  onError?(err: unknown, conversationId: string): void;
}

/**
 * Sends the user's read marks to Chat (`POST /conversations/:id/read`), coalesced: while one
 * call per conversation is in flight, later marks wait and only the newest goes next. A mark
 * Chat already has (`known`: from the list, a `read` frame, or a message the user sent) is not
 * sent again, nor is an older one.
 */
export class ReadReporter {
  private readonly acked = new Map<string, string>();
  private readonly inFlight = new Map<string, string>();
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly report: (conversationId: string, messageId: string) => Promise<ReadResult>,
    private readonly options: ReadReporterOptions = {},
  ) {}

  /** Chat already holds this mark (or a later one). */
  known(conversationId: string, messageId: string, position?: PositionOf): void {
    const old = this.acked.get(conversationId);
    if (old === undefined || !isAtOrAfter(old, messageId, position)) this.acked.set(conversationId, messageId);
  }

  /** The user has seen `messageId` in the conversation. True when a call goes out (now or after the one in flight). */
  seen(conversationId: string, messageId: string, position?: PositionOf): boolean {
    const acked = this.acked.get(conversationId);
    if (acked !== undefined && isAtOrAfter(acked, messageId, position)) return false;
    const flying = this.inFlight.get(conversationId);
    if (flying !== undefined) {
      if (isAtOrAfter(flying, messageId, position)) return false;
      const queued = this.pending.get(conversationId);
      if (queued === undefined || !isAtOrAfter(queued, messageId, position)) this.pending.set(conversationId, messageId);
      return true;
    }
    this.send(conversationId, messageId, position);
    return true;
  }

  /** Whether a call for the conversation is in flight (for tests and for a quiet shutdown). */
  busy(conversationId: string): boolean {
    return this.inFlight.has(conversationId);
  }

  private send(conversationId: string, messageId: string, position?: PositionOf): void {
    this.inFlight.set(conversationId, messageId);
    this.report(conversationId, messageId).then(
      (result) => {
        this.known(conversationId, typeof result?.readUpTo === 'string' ? result.readUpTo : messageId, position);
        this.options.onResult?.(conversationId, result);
        this.next(conversationId, position);
      },
      (err: unknown) => {
        this.options.onError?.(err, conversationId);
        // No retry loop: the next message seen, or the next open, tries again.
        this.next(conversationId, position);
      },
    );
  }

  private next(conversationId: string, position?: PositionOf): void {
    this.inFlight.delete(conversationId);
    const queued = this.pending.get(conversationId);
    this.pending.delete(conversationId);
    if (queued !== undefined) this.seen(conversationId, queued, position);
  }
}
