import type { Db } from 'mongodb';
import { indexesOnce, type DatabaseOutage } from '@chat/common/mongo';
import { createBucketedSequence, sequenceIndex } from './bucketed-sequence.js';
import { recipientsOf, toChatMessage, type MessageDoc } from './message.js';

/**
 * One entry per (user, message): the user's view of a message at position `seq` in their
 * timeline. `sync` pages a timeline by `seq`.
 */
export interface TimelineEntryDoc {
  /** `<userId>:<messageId>`: makes appending the same message twice impossible. */
  _id: string;
  userId: string;
  seq: number;
  /** `<userId>:<seq ÷ 100>`: what every read of a timeline is keyed on (see bucketed-sequence.ts). */
  bucket?: string;
  /**
   * A copy of the message as the API shows it, serialized: a page needs no second query, and
   * neither the database nor Chat decodes its fields (a sync response splices these strings).
   * Entries hold nothing else a read does not need, as every field costs each read.
   */
  messageJson: string;
}

export interface Timeline {
  ensureIndexes(): Promise<void>;
  /** Appends the message (its id, and its API shape serialized) to the user's timeline (idempotent); returns its sequence number there. */
  append(userId: string, messageId: string, messageJson: string): Promise<number>;
  /** Entries after `afterSeq`, oldest first, with no holes. */
  after(userId: string, afterSeq: number, limit: number): Promise<TimelineEntryDoc[]>;
}

export const TIMELINE_COLLECTION = 'timeline';

export const timelineEntryId = (userId: string, messageId: string) => `${userId}:${messageId}`;

/**
 * Gap-free ordering across replicas without transactions or atomic counters: a timeline is a
 * bucketed sequence keyed by user (see bucketed-sequence.ts for why that order holds and why
 * no read touches the whole timeline). Paging by `seq > cursor` therefore never skips a
 * committed message, whichever replica inserted it and whatever its clocks say. Entries are
 * never deleted.
 */
export function createTimeline(db: Db, opts: { cacheMax?: number; outage?: DatabaseOutage } = {}): Timeline {
  const entries = db.collection<TimelineEntryDoc>(TIMELINE_COLLECTION);
  const fields = { position: 'seq' };
  const sequence = createBucketedSequence(entries, fields, opts);

  async function seqOf(userId: string, messageId: string): Promise<number | undefined> {
    const entry = await entries.findOne({ _id: timelineEntryId(userId, messageId) }, { projection: { seq: 1 } });
    return entry?.seq;
  }

  return {
    // The sequence guard, and what every read is keyed on.
    ensureIndexes: indexesOnce(entries, [sequenceIndex(fields, 'timeline_bucket_seq')]),

    async append(userId, messageId, messageJson) {
      const { position } = await sequence.append(
        userId,
        (seq) => ({ _id: timelineEntryId(userId, messageId), userId, seq, messageJson }),
        () => seqOf(userId, messageId),
      );
      return position;
    },

    after(userId, afterSeq, limit) {
      return sequence.after(userId, afterSeq, limit);
    },
  };
}

/**
 * Appends a message to each recipient's timeline (idempotent); returns userId → seq. The
 * appends run concurrently, so a group's entries share the timeline's batched inserts.
 */
export async function appendToTimelines(timeline: Timeline, doc: MessageDoc): Promise<Record<string, number>> {
  const messageId = doc._id.toHexString();
  const messageJson = JSON.stringify(toChatMessage(doc));
  const seqs: Record<string, number> = {};
  await Promise.all(
    recipientsOf(doc).map(async (userId) => {
      seqs[userId] = await timeline.append(userId, messageId, messageJson);
    }),
  );
  return seqs;
}
