import { LRUCache } from 'lru-cache';
import type { Logger } from '@chat/common/config';
import type { ConversationsRepository, MembershipDoc } from './conversations-repo.js';
import { membershipId } from './conversations-repo.js';
import type { MessageDoc } from './message.js';

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
 * Cost: one entry per conversation active in the interval, and an LRU of direct conversations
 * known to have memberships.
 */
export class ConversationActivity {
  private pending = new Map<string, { doc: MessageDoc; messageJson: string }>();
  private readonly knownDirect = new LRUCache<string, true>({ max: 100_000 });
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly opts: { conversations: ConversationsRepository; logger: Logger; intervalMs: number },
  ) {}

  /** Notes a stored message (the newest position of its conversation wins). */
  note(doc: MessageDoc, messageJson: string): void {
    const current = this.pending.get(doc.conversationId);
    if (!current || current.doc.position < doc.position) this.pending.set(doc.conversationId, { doc, messageJson });
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
    this.pending = new Map();
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
