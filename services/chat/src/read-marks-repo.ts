import type { Db } from 'mongodb';
import { indexesOnce, MAX_STATEMENTS_PER_WRITE } from '@chat/common/mongo';
import { insertIgnoringRepeats } from '@chat/common/mongo';

/**
 * Read receipts: one high-water mark per (conversation, member), "I have read up to the message
 * at this position". Never one row per message: a later mark subsumes every earlier one.
 *
 * **Invariant: a mark only moves forward**, whichever replica, device or the activity writer
 * writes it, and in whatever order their writes land.
 *
 * The obvious design, one document per (conversation, user) updated with `$max`, breaks that on
 * the local default database: an update there reads the document, applies the operator in Go
 * and writes the whole document back (mongo-portability.ts, rule 1), so two devices marking 7
 * and 9 at once can end at 7. Instead a mark is an insert of its own document,
 * `_id = <conversationId>#<userId>#<position>` (a repeat of the same position is refused by the
 * `_id` index and ignored), and the current mark is the highest position stored. Inserts of
 * different positions commute and max() does not care about their order, so no interleaving can
 * lower it. Lower positions are garbage, deleted after each insert (`position < p`, never the
 * maximum); one that a race leaves behind is harmless, as every reader takes the maximum, and
 * the next mark's delete takes it.
 *
 * Reads are equality on `userId` (a user's marks, the conversation list) or `conversationId`
 * (a conversation's, receipts), each served by its own index (rule 2): a few documents per
 * conversation of the user, or per member of the conversation.
 */
export interface ReadMarkDoc {
  /** `<conversationId>#<userId>#<position>`: a repeat of a mark is the same document. */
  _id: string;
  conversationId: string;
  userId: string;
  /** The position of the read message in its conversation (messages-repo.ts). */
  position: number;
  messageId: string;
  at: Date;
}

/** A mark as readers use it. */
export type ReadMark = Pick<ReadMarkDoc, 'position' | 'messageId' | 'at'>;
export type NewReadMark = Omit<ReadMarkDoc, '_id'>;

export interface ReadMarksRepository {
  ensureIndexes(): Promise<void>;
  /** Stores the mark (a repeat changes nothing), then deletes that user's lower marks in the conversation. */
  mark(mark: NewReadMark): Promise<void>;
  /** Several marks (of different (conversation, user) pairs): one insertMany per 99, then a delete per pair. */
  markAll(marks: readonly NewReadMark[]): Promise<void>;
  /** The user's current mark in every conversation they have one in, by conversationId. */
  marksOf(userId: string): Promise<Map<string, ReadMark>>;
  /** The current mark of every user who has one in the conversation (former members included), by userId. */
  marksIn(conversationId: string): Promise<Map<string, ReadMark>>;
  markOf(conversationId: string, userId: string): Promise<ReadMark | undefined>;
  /** The users with a mark at `position` (the newest message: nobody's is beyond it); only the documents at that position are read. */
  readersAt(conversationId: string, position: number): Promise<string[]>;
}

export const READ_MARKS_COLLECTION = 'read_marks';

export const readMarkId = (conversationId: string, userId: string, position: number) => `${conversationId}#${userId}#${position}`;

const MARK_FIELDS = { _id: 0, conversationId: 1, userId: 1, position: 1, messageId: 1, at: 1 } as const;

/** The highest mark per key: the current one (lower ones are garbage a race left). */
function highestBy(docs: readonly ReadMarkDoc[], key: (doc: ReadMarkDoc) => string): Map<string, ReadMark> {
  const current = new Map<string, ReadMark>();
  for (const doc of docs) {
    const k = key(doc);
    if ((current.get(k)?.position ?? 0) < doc.position) current.set(k, { position: doc.position, messageId: doc.messageId, at: doc.at });
  }
  return current;
}

export function createReadMarksRepository(db: Db): ReadMarksRepository {
  const marks = db.collection<ReadMarkDoc>(READ_MARKS_COLLECTION);
  const ensureIndexes = indexesOnce(marks, [
    // The conversation list: all of a user's marks in one equality read.
    { key: { userId: 1 }, name: 'user' },
    // Receipts, a 1:1 peer's mark, and the delete of lower marks (equality on the conversation first).
    { key: { conversationId: 1 }, name: 'conversation' },
  ]);

  const removeBelow = ({ conversationId, userId, position }: NewReadMark) => marks.deleteMany({ conversationId, userId, position: { $lt: position } });

  return {
    ensureIndexes,

    async mark(mark) {
      await insertIgnoringRepeats(marks, [{ _id: readMarkId(mark.conversationId, mark.userId, mark.position), ...mark }]);
      await removeBelow(mark);
    },

    async markAll(all) {
      const docs = all.map((mark) => ({ _id: readMarkId(mark.conversationId, mark.userId, mark.position), ...mark }));
      // Inserts first, every one of them: a delete never runs before the mark that makes it garbage.
      for (let i = 0; i < docs.length; i += MAX_STATEMENTS_PER_WRITE) await insertIgnoringRepeats(marks, docs.slice(i, i + MAX_STATEMENTS_PER_WRITE));
      // One deleteMany per pair: a filter naming several pairs ($or) is not pushed down, it would read the whole collection.
      for (const mark of all) await removeBelow(mark);
    },

    async marksOf(userId) {
      const found = await marks.find({ userId }, { projection: MARK_FIELDS }).toArray();
      return highestBy(found, (doc) => doc.conversationId);
    },

    async marksIn(conversationId) {
      const found = await marks.find({ conversationId }, { projection: MARK_FIELDS }).toArray();
      return highestBy(found, (doc) => doc.userId);
    },

    async markOf(conversationId, userId) {
      // Both equalities are pushed down; the conversation's index serves it (a few documents at most).
      const found = await marks.find({ conversationId, userId }, { projection: MARK_FIELDS }).toArray();
      return highestBy(found, () => userId).get(userId);
    },

    async readersAt(conversationId, position) {
      // Equality on the position too: only marks at the newest message are decoded, not every member's.
      const found = await marks.find({ conversationId, position }, { projection: { _id: 0, userId: 1 } }).toArray();
      return [...new Set(found.map((doc) => doc.userId))];
    },
  };
}
