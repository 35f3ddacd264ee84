import { ObjectId } from 'mongodb';
import { invalidRequest, type ReadSignal, type UserRef } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import type { TokenUser } from '@chat/common/jwt';
import { parseConversationId, peerIn, type ConversationRef } from './conversation-id.js';
import type { ConversationsRepository, Member, MembershipDoc } from './conversations-repo.js';
import { conversationNotFound, memberOrNotFound } from './group-access.js';
import type { MessagesRepository } from './messages-repo.js';
import type { ReadMark, ReadMarksRepository } from './read-marks-repo.js';
import { parseMessageId } from './validation.js';

/** A live `read` signal (signals.ts in @chat/common), as the receipts hand it to the bus. */
export type ReadSignalFields = Omit<ReadSignal, 'v' | 'kind'>;

/** Where read signals go. Fire-and-forget: it never blocks or fails the request that stored the mark. */
export interface ReadSignals {
  publishRead(signal: ReadSignalFields): void;
}

export interface ReceiptsView {
  conversationId: string;
  memberCount: number;
  /** Members whose mark is at the conversation's newest message. */
  readLatestCount: number;
  /** Each member's mark, in the members' order; null above RECEIPTS_MAX_MEMBERS (counts only). */
  receipts: Array<{ user: UserRef; readUpTo: string | null; at: string | null }> | null;
}

/** What a list entry shows about reading. */
export interface ListReceipt {
  unread: number;
  readUpTo: string | null;
  /** 1:1 only: the other user's mark. */
  peerReadUpTo?: string | null;
}

export interface Receipts {
  /** POST /conversations/:id/read: moves the caller's mark forward (never back); the mark and unread count as this left them. */
  read(caller: TokenUser, conversationId: string, body: Record<string, unknown>): Promise<{ readUpTo: string; unread: number }>;
  /** GET /conversations/:id/receipts. */
  receipts(caller: TokenUser, conversationId: string): Promise<ReceiptsView>;
  /** The reading fields of a page of the caller's list, by conversationId. */
  forList(userId: string, page: readonly MembershipDoc[]): Promise<Map<string, ListReceipt>>;
}

export interface ReceiptsDeps {
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  readMarks: ReadMarksRepository;
  signals: ReadSignals;
  /** RECEIPTS_MAX_MEMBERS: above it, no live read signals and receipts answer counts only. */
  maxMembers: number;
  logger: Logger;
  /** Counts each read by whether it moved the mark (`moved`) or found it at or past the message (`unchanged`). */
  onRead?: (result: 'moved' | 'unchanged') => void;
}

/**
 * Messages after the caller's mark: O(1), never a count over messages. Every message up to a
 * user's own newest one is read by definition (sending reads the conversation: the activity
 * writer moves the sender's mark), so everything after the mark is someone else's. A group
 * member sees nothing before `since` (the message that added them), so their mark counts from
 * `since − 1` at least.
 */
export function unreadCount(lastPosition: number, mark: Pick<ReadMark, 'position'> | undefined, since = 1): number {
  return Math.max(0, lastPosition - Math.max(mark?.position ?? 0, since - 1));
}

/**
 * Durable read receipts and unread counts (read-marks-repo.ts stores them). Who may read or mark
 * a conversation is decided as everywhere else: a 1:1 conversation by the two ids its id is made
 * of (no membership read: the list's membership is written off the send path, so a peer marking
 * a message right after it arrived would find none yet), a group by `group_members`, and anyone
 * else gets the same 404 as for an unknown id.
 *
 * Costs: a read is the members (groups), the message by `_id`, the caller's mark and the
 * conversation's newest position, in parallel, then an insert and a delete only when the mark
 * moves; the list adds one read of the caller's marks per page and one per 1:1 conversation in
 * it (the peer's mark), in parallel.
 */
export function createReceipts(deps: ReceiptsDeps): Receipts {
  const { messages, conversations, readMarks } = deps;

  /** The conversation an id names, when the caller may be in it (a 1:1 one they are one of the two of); else the 404 of an unknown id. */
  function conversationOf(callerId: string, id: string): ConversationRef {
    const ref = parseConversationId(id);
    if (!ref || (ref.type === 'direct' && peerIn(ref, callerId) === undefined)) throw conversationNotFound();
    return ref;
  }

  /** A group's members, read now (never cached); undefined for a 1:1 conversation. */
  async function membersOf(ref: ConversationRef): Promise<Member[] | undefined> {
    if (ref.type === 'direct') return undefined;
    await conversations.ensureIndexes();
    return conversations.members(ref.id);
  }

  /** Everyone in a 1:1 conversation: its two users (one for notes to oneself). */
  const directUsers = (ref: Extract<ConversationRef, { type: 'direct' }>) => [...new Set(ref.userIds)];

  const iso = (at: Date | undefined) => at?.toISOString() ?? null;

  function publish(signal: ReadSignalFields): void {
    try {
      deps.signals.publishRead(signal);
    } catch (err) {
      // Live signals are a convenience: the mark is stored, and GET /conversations shows it.
      deps.logger.warn({ err, conversationId: signal.conversationId }, 'could not publish a read signal');
    }
  }

  return {
    async read(caller, conversationId, body) {
      const messageId = parseMessageId(body.messageId);
      const ref = conversationOf(caller.id, conversationId);
      await readMarks.ensureIndexes();
      // All at once; nothing read here is answered before membership is settled below.
      const [members = [], position, current, newest] = await Promise.all([
        membersOf(ref),
        messages.positionIn(ref.id, new ObjectId(messageId)),
        readMarks.markOf(ref.id, caller.id),
        messages.last(ref.id),
      ]);
      const since = ref.type === 'group' ? memberOrNotFound(members, caller.id).since : 1;
      if (position === undefined || position < since) throw invalidRequest('messageId is not a message of this conversation');
      const last = Math.max(newest, position);
      if (current && current.position >= position) {
        deps.onRead?.('unchanged');
        return { readUpTo: current.messageId, unread: unreadCount(last, current, since) };
      }

      const at = new Date();
      await readMarks.mark({ conversationId: ref.id, userId: caller.id, position, messageId, at });
      const to = ref.type === 'direct' ? directUsers(ref) : members.map((m) => m.userId);
      if (to.length <= deps.maxMembers) publish({ conversationId: ref.id, user: { id: caller.id, username: caller.username }, readUpTo: messageId, at: at.toISOString(), to });
      deps.onRead?.('moved');
      return { readUpTo: messageId, unread: unreadCount(last, { position }, since) };
    },

    async receipts(caller, conversationId) {
      const ref = conversationOf(caller.id, conversationId);
      await readMarks.ensureIndexes();
      if (ref.type === 'direct') {
        // The two users and their names from the newest message (which also gives its position):
        // one read, and it exists exactly when the conversation does.
        const [[newest], marks] = await Promise.all([messages.conversation(ref.id, undefined, 1), readMarks.marksIn(ref.id)]);
        if (!newest || newest.toId === undefined) throw conversationNotFound();
        const names = new Map([[newest.fromId, newest.from], [newest.toId, newest.to!]]);
        const users = directUsers(ref).map((id) => ({ id, username: names.get(id)! }));
        return {
          conversationId: ref.id,
          memberCount: users.length,
          readLatestCount: users.filter((u) => (marks.get(u.id)?.position ?? 0) >= newest.position).length,
          receipts: users.map((user) => ({ user, readUpTo: marks.get(user.id)?.messageId ?? null, at: iso(marks.get(user.id)?.at) })),
        };
      }

      const [members = [], last] = await Promise.all([membersOf(ref), messages.last(ref.id)]);
      memberOrNotFound(members, caller.id);
      if (members.length > deps.maxMembers) {
        // Counts only: the marks at the newest message, not one per member.
        const readers = new Set(await readMarks.readersAt(ref.id, last));
        return { conversationId: ref.id, memberCount: members.length, readLatestCount: members.filter((m) => readers.has(m.userId)).length, receipts: null };
      }
      const marks = await readMarks.marksIn(ref.id);
      return {
        conversationId: ref.id,
        memberCount: members.length,
        readLatestCount: members.filter((m) => (marks.get(m.userId)?.position ?? 0) >= last).length,
        receipts: members.map((m) => ({ user: { id: m.userId, username: m.username }, readUpTo: marks.get(m.userId)?.messageId ?? null, at: iso(marks.get(m.userId)?.at) })),
      };
    },

    async forList(userId, page) {
      const found = new Map<string, ListReceipt>();
      if (page.length === 0) return found;
      await readMarks.ensureIndexes();
      const directs = page.filter((doc) => doc.type === 'direct');
      const [own, peers] = await Promise.all([readMarks.marksOf(userId), Promise.all(directs.map((doc) => readMarks.marksIn(doc.conversationId)))]);
      const peerMarks = new Map(directs.map((doc, i) => [doc.conversationId, peers[i]!.get(doc.peer!.id)]));
      for (const doc of page) {
        const mark = own.get(doc.conversationId);
        // lastPosition is the list's copy of the newest position (written with the sender's mark, conversation-activity.ts).
        const entry: ListReceipt = { unread: unreadCount(doc.lastPosition, mark, doc.type === 'group' ? doc.since : 1), readUpTo: mark?.messageId ?? null };
        if (doc.type === 'direct') entry.peerReadUpTo = peerMarks.get(doc.conversationId)?.messageId ?? null;
        found.set(doc.conversationId, entry);
      }
      return found;
    },
  };
}
