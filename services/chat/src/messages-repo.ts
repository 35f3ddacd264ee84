import { indexesOnce, isDuplicateKey } from '@chat/common/mongo';
import type { Db, ObjectId } from 'mongodb';
import type { MessageDoc } from './message.js';

export interface MessagesRepository {
  ensureIndexes(): Promise<void>;
  /** Stores a new message; 'repeat' when the sender already used this idempotency key. */
  insert(doc: MessageDoc): Promise<'inserted' | 'repeat'>;
  findByIdempotencyKey(fromId: string, idemKey: string): Promise<MessageDoc | null>;
  /** The oldest unpublished messages. */
  findUnpublished(limit: number): Promise<MessageDoc[]>;
  /**
   * One updateMany for the whole batch (never one update per message). Not a bulkWrite of
   * per-id updates: FerretDB v1.24 hangs on an update command with 100 or more statements
   * (measured: 99 fine, 100 never answers and holds the database's write lock).
   */
  markPublished(ids: ObjectId[], at?: Date): Promise<void>;
  countUnpublished(): Promise<number>;
}

export const MESSAGES_COLLECTION = 'messages';

export function createMessagesRepository(db: Db): MessagesRepository {
  const messages = db.collection<MessageDoc>(MESSAGES_COLLECTION);
  const ensureIndexes = indexesOnce(messages, [
    // The idempotency guard: racing repeats meet here, and only one insert wins.
    { key: { fromId: 1, idemKey: 1 }, name: 'sender_idempotency_key', unique: true },
    // The outbox scan: unpublished messages, oldest first.
    { key: { published: 1, createdAt: 1 }, name: 'outbox' },
  ]);

  return {
    ensureIndexes,

    async insert(doc) {
      try {
        await messages.insertOne(doc);
        return 'inserted';
      } catch (err) {
        if (isDuplicateKey(err)) return 'repeat';
        throw err;
      }
    },

    findByIdempotencyKey(fromId, idemKey) {
      return messages.findOne({ fromId, idemKey });
    },

    findUnpublished(limit) {
      return messages.find({ published: false }).sort({ createdAt: 1 }).limit(limit).toArray();
    },

    async markPublished(ids, at = new Date()) {
      if (ids.length === 0) return;
      await messages.updateMany({ _id: { $in: ids } }, { $set: { published: true, publishedAt: at } });
    },

    countUnpublished() {
      return messages.countDocuments({ published: false });
    },
  };
}
