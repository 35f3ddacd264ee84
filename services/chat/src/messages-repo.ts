import { indexesOnce, type DatabaseOutage } from '@chat/common/mongo';
import type { Db, ObjectId } from 'mongodb';
import { createBucketedSequence, sequenceIndex } from './bucketed-sequence.js';
import type { MessageDoc, NewMessageDoc } from './message.js';

export interface MessagesRepository {
  ensureIndexes(): Promise<void>;
  /**
   * Stores a new message at the next position of its conversation; 'repeat' when the sender
   * already used this idempotency key.
   */
  insert(doc: NewMessageDoc): Promise<MessageDoc | 'repeat'>;
  findByIdempotencyKey(fromId: string, idemKey: string): Promise<MessageDoc | null>;
  /** A conversation's messages below `beforePosition` (or from the newest), newest first. */
  conversation(conversationId: string, beforePosition: number | undefined, limit: number): Promise<MessageDoc[]>;
  /** The newest position of a conversation (0 when it has none): a search over its buckets, never a count. */
  last(conversationId: string): Promise<number>;
  /** The position of a message in that conversation; undefined when it is not a message of that conversation. */
  positionIn(conversationId: string, messageId: ObjectId): Promise<number | undefined>;
  /** The oldest unpublished messages. */
  findUnpublished(limit: number): Promise<MessageDoc[]>;
  /** One updateMany for the whole batch (never one update per message). */
  markPublished(ids: ObjectId[], at?: Date): Promise<void>;
  countUnpublished(): Promise<number>;
}

export const MESSAGES_COLLECTION = 'messages';

export function createMessagesRepository(db: Db, opts: { outage?: DatabaseOutage } = {}): MessagesRepository {
  const messages = db.collection<MessageDoc>(MESSAGES_COLLECTION);
  // A conversation is a bucketed sequence too: history pages read one or two buckets.
  const fields = { position: 'position' };
  // Pages leave out a group message's recipients (up to MAX_GROUP_MEMBERS ids): only the relay reads them.
  const conversations = createBucketedSequence(messages, fields, { omit: ['recipientIds'], outage: opts.outage });
  const ensureIndexes = indexesOnce(messages, [
    // The idempotency guard: racing repeats meet here, and only one insert wins. The key comes
    // first: it is the selective field of the repeat lookup (mongo-portability.ts, rule 2).
    { key: { idemKey: 1, fromId: 1 }, name: 'idempotency_key_sender', unique: true },
    // The position guard of a conversation, and what history reads are keyed on.
    sequenceIndex(fields, 'conversation_bucket_position'),
    // The outbox: `published: false` matches only what is pending, so the relay's scan reads
    // nothing while nothing is pending (equality on it is what the local default indexes).
    { key: { published: 1, createdAt: 1 }, name: 'outbox' },
  ]);

  const findByIdempotencyKey = (fromId: string, idemKey: string) => messages.findOne({ idemKey, fromId });

  return {
    ensureIndexes,

    async insert(doc) {
      let stored: MessageDoc | undefined;
      const { inserted } = await conversations.append(
        doc.conversationId,
        (position) => (stored = { ...doc, position }),
        // A refusal is a repeat of the idempotency key, or another sender's message at that position.
        async () => (await findByIdempotencyKey(doc.fromId, doc.idemKey))?.position,
      );
      return inserted && stored ? stored : 'repeat';
    },

    findByIdempotencyKey,

    conversation(conversationId, beforePosition, limit) {
      return conversations.before(conversationId, beforePosition, limit);
    },

    last(conversationId) {
      return conversations.last(conversationId);
    },

    async positionIn(conversationId, messageId) {
      // By _id alone (the one selective field); the conversation is checked here, not in the filter.
      const found = await messages.findOne({ _id: messageId }, { projection: { _id: 0, conversationId: 1, position: 1 } });
      return found?.conversationId === conversationId ? found.position : undefined;
    },

    findUnpublished(limit) {
      return messages.find({ published: false }).sort({ createdAt: 1 }).limit(limit).toArray();
    },

    async markPublished(ids, at = new Date()) {
      if (ids.length === 0) return;
      // `published: false` first: the equality part keeps the read to pending messages (rule 2
      // of mongo-portability.ts); `$in` alone would read the whole collection there.
      await messages.updateMany({ published: false, _id: { $in: ids } }, { $set: { published: true, publishedAt: at } });
    },

    countUnpublished() {
      return messages.countDocuments({ published: false });
    },
  };
}
