import { LRUCache } from 'lru-cache';
import type { Logger } from '@chat/common/config';
import type { ConversationsRepository, MembershipDoc } from './conversations-repo.js';
import { membershipId } from './conversations-repo.js';
import type { MessageDoc } from './message.js';
import type { NewReadMark, ReadMarksRepository } from './read-marks-repo.js';

/**
 * Keeps the conversation list's order and `lastMessage` up to date, off the send path.
 *
 * The list is one membership document per (conversation, user), sorted by `lastActivityAt`.
 * Updating them inside a send would add a write to every 1:1 send (the goal is three round
 * trips) and N writes to a group send. Instead each stored message is noted here, and every
 * `intervalMs` the newest message of each conversation that had any is written with one
 * `updateMany` per conversation (mongo-portability.ts, rule 4), however many messages it got
 * meanwhile. The cost: the list may lag the newest message by one interval, and a message
 * whose sender crashed before it was noted shows in the list only with the next one. Direct
 * conversations get their two memberships the first time this process notes one of their
 * messages (an insert that a repeat leaves as it is).
 *
 * It also writes the rule "sending reads the conversation": a message a user sends (text or
 * system) moves their own read mark to it, as chat apps do, so a conversation's unread count is
 * the newest position minus the mark, never a count over messages. Doing it here keeps it off the
 * send path too: per interval, each (conversation, sender) pair's newest message is written as one
 * mark, all of them in one insertMany (per 99), then each pair's lower marks are deleted
 * (read-marks-repo.ts). The marks are written before the list's positions, so a list read in
 * between never counts a sender's own message as unread. No live read signal is sent for these:
 * the sender's devices saw the message go out, and the others get it as a message.
 *
 * Cost: one entry per conversation and one per (conversation, sender) active in the interval,
 * and an LRU of direct conversations known to have memberships.
 */
export class ConversationActivity {
  private pending = new Map<string, { doc: MessageDoc; messageJson: string }>();
  /** Each sender's newest message per conversation, by `<conversationId>#<userId>`. */
  private pendingMarks = new Map<string, NewReadMark>();
  private readonly knownDirect = new LRUCache<string, true>({ max: 100_000 });
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly opts: { conversations: ConversationsRepository; readMarks: Pick<ReadMarksRepository, 'markAll'>; logger: Logger; intervalMs: number },
  ) {}

  /** Notes a stored message (the newest position of its conversation wins, and of its sender there). */
  note(doc: MessageDoc, messageJson: string): void {
    const current = this.pending.get(doc.conversationId);
    if (!current || current.doc.position < doc.position) this.pending.set(doc.conversationId, { doc, messageJson });
    const key = `${doc.conversationId}#${doc.fromId}`;
    const mark = this.pendingMarks.get(key);
    if (!mark || mark.position < doc.position) {
      this.pendingMarks.set(key, { conversationId: doc.conversationId, userId: doc.fromId, position: doc.position, messageId: doc._id.toHexString(), at: doc.createdAt });
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Writes what was noted; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    const marks = this.pendingMarks;
    this.pending = new Map();
    this.pendingMarks = new Map();
    if (marks.size > 0) {
      try {
        await this.opts.readMarks.markAll([...marks.values()]);
      } catch (err) {
        // The senders' unread counts include their own messages until their next message or read.
        this.opts.logger.warn({ err, marks: marks.size }, 'could not record senders\' read marks');
      }
    }
    for (const { doc, messageJson } of batch.values()) {
      try {
        if (doc.toId !== undefined && !this.knownDirect.has(doc.conversationId)) {
          await this.opts.conversations.addMemberships(directMemberships(doc, messageJson));
          this.knownDirect.set(doc.conversationId, true);
        }
        await this.opts.conversations.recordActivity({ conversationId: doc.conversationId, position: doc.position, at: doc.createdAt, messageJson });
      } catch (err) {
        // Only the list's order and preview are late; the next message of the conversation fixes it.
        this.opts.logger.warn({ err, conversationId: doc.conversationId }, 'could not record conversation activity');
      }
    }
  }
}

/** The memberships of a direct conversation (one for notes to oneself), as of this message. */
function directMemberships(doc: MessageDoc, messageJson: string): MembershipDoc[] {
  const sides = [
    { userId: doc.fromId, username: doc.from, peer: { id: doc.toId!, username: doc.to! } },
    { userId: doc.toId!, username: doc.to!, peer: { id: doc.fromId, username: doc.from } },
  ].slice(0, doc.fromId === doc.toId ? 1 : 2);
  return sides.map(({ userId, username, peer }) => ({
    _id: membershipId(doc.conversationId, userId),
    conversationId: doc.conversationId,
    type: 'direct',
    userId,
    username,
    joinedAt: doc.createdAt,
    peer,
    lastPosition: doc.position,
    lastActivityAt: doc.createdAt,
    lastMessageJson: messageJson,
  }));
}
