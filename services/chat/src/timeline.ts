import type { Db } from 'mongodb';
import { LRUCache } from 'lru-cache';
import { unavailable, type ChatMessage } from '@chat/common/contracts';
import { indexesOnce, isDuplicateKey } from '@chat/common/mongo';
import { KeyedSerializer } from './keyed-serializer.js';
import { participants, toChatMessage, type MessageDoc } from './message.js';

/**
 * One entry per (user, message): the user's view of a message at position `seq` in their
 * timeline. `sync` pages a timeline by `seq`, `history` pages one conversation of it.
 */
export interface TimelineEntryDoc {
  /** `<userId>:<messageId>`: makes appending the same message twice impossible. */
  _id: string;
  userId: string;
  seq: number;
  /** The other participant (the user themself for a message to oneself). */
  peerId: string;
  messageId: string;
  /** A copy of the message as the API shows it, so a page is one query (no joins). */
  message: ChatMessage;
}

export interface Timeline {
  ensureIndexes(): Promise<void>;
  /** Appends the message to the user's timeline (idempotent) and returns its sequence number there. */
  append(userId: string, peerId: string, message: ChatMessage): Promise<number>;
  /** Existing entries for (user, message) pairs, keyed by `<userId>:<messageId>` → seq. */
  seqsOf(pairs: Array<{ userId: string; messageId: string }>): Promise<Map<string, number>>;
  /** Entries after `afterSeq`, oldest first. */
  after(userId: string, afterSeq: number, limit: number): Promise<TimelineEntryDoc[]>;
  /** One conversation of the user's timeline before `beforeSeq` (or from the newest), newest first. */
  conversation(userId: string, peerId: string, beforeSeq: number | undefined, limit: number): Promise<TimelineEntryDoc[]>;
}

export const TIMELINE_COLLECTION = 'timeline';
const MAX_APPEND_ATTEMPTS = 200;
/**
 * Cheap insert probes (seq+1, seq+2, …) after a collision before paying for an existence
 * check and a max query. The max query is an index lookup on MongoDB but a collection scan
 * on FerretDB, where probing resolves the usual one-or-two-behind case far faster.
 */
const PROBES_BEFORE_RESYNC = 4;

export const timelineEntryId = (userId: string, messageId: string) => `${userId}:${messageId}`;

/**
 * Gap-free ordering across replicas without transactions or atomic counters.
 *
 * A user's sequence numbers are handed out as "a number known to exist, plus one", and the
 * unique (userId, seq) index decides who gets it. So seq N+1 can only ever be inserted after N
 * was visible to the inserter: entries become visible in seq order, and a reader that has seen
 * N+1 can never later find a new N. Paging by `seq > cursor` therefore never skips a committed
 * message, whichever replica inserted it and whatever its clocks say. (A counter document with
 * $inc would not do: FerretDB's findAndModify is not atomic, and even on MongoDB a counter lets
 * N+1 commit before N, which a concurrent reader would skip.)
 *
 * "Known to exist" is the last seq this process appended or saw for the user (cached), else
 * the current maximum read from the (userId, seq) index. A collision on seq means another
 * replica got there first, which proves that seq exists, so seq+1 is the next valid try;
 * after a few such probes the maximum is re-read. Entries are never deleted.
 */
export function createTimeline(db: Db, opts: { cacheMax?: number } = {}): Timeline {
  const entries = db.collection<TimelineEntryDoc>(TIMELINE_COLLECTION);
  const lastKnownSeq = new LRUCache<string, number>({ max: opts.cacheMax ?? 100_000 });
  const perUser = new KeyedSerializer();

  const remember = (userId: string, seq: number) => {
    if (seq > (lastKnownSeq.get(userId) ?? 0)) lastKnownSeq.set(userId, seq);
  };

  async function maxSeq(userId: string): Promise<number> {
    const top = await entries.find({ userId }, { projection: { seq: 1 } }).sort({ seq: -1 }).limit(1).next();
    return top?.seq ?? 0;
  }

  return {
    ensureIndexes: indexesOnce(entries, [
      // The sequence guard and the sync index.
      { key: { userId: 1, seq: 1 }, name: 'timeline_seq', unique: true },
      // The conversation index: a history page is a range scan of O(limit) entries.
      { key: { userId: 1, peerId: 1, seq: -1 }, name: 'conversation' },
    ]),

    append(userId, peerId, message) {
      return perUser.run(userId, async () => {
        const _id = timelineEntryId(userId, message.id);
        let seq = (lastKnownSeq.get(userId) ?? (await maxSeq(userId))) + 1;
        for (let attempt = 1; ; attempt++) {
          try {
            await entries.insertOne({ _id, userId, seq, peerId, messageId: message.id, message });
            remember(userId, seq);
            return seq;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
          if (attempt >= MAX_APPEND_ATTEMPTS) throw unavailable('the timeline is too contended right now, retry shortly');
          if (attempt % PROBES_BEFORE_RESYNC !== 0) {
            // Another replica most likely took this seq, so seq exists and seq+1 is a valid
            // next try. (If the refusal was our own entry existing instead, every further
            // insert is refused too, so probing can never create a gap; the check below ends it.)
            seq += 1;
            continue;
          }
          // Either this message is already in the timeline (a retry, the relay, a racing
          // repeat of the send) or we are far behind the other replicas: re-read the maximum.
          const existing = await entries.findOne({ _id }, { projection: { seq: 1 } });
          if (existing) {
            remember(userId, existing.seq);
            return existing.seq;
          }
          seq = (await maxSeq(userId)) + 1;
        }
      });
    },

    async seqsOf(pairs) {
      const found = new Map<string, number>();
      if (pairs.length === 0) return found;
      const ids = pairs.map((p) => timelineEntryId(p.userId, p.messageId));
      for await (const entry of entries.find({ _id: { $in: ids } }, { projection: { seq: 1 } })) found.set(entry._id, entry.seq);
      return found;
    },

    after(userId, afterSeq, limit) {
      return entries.find({ userId, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).toArray();
    },

    conversation(userId, peerId, beforeSeq, limit) {
      const filter = beforeSeq === undefined ? { userId, peerId } : { userId, peerId, seq: { $lt: beforeSeq } };
      return entries.find(filter).sort({ seq: -1 }).limit(limit).toArray();
    },
  };
}

/** Appends a message to each participant's timeline (idempotent); returns userId → seq. */
export async function appendToTimelines(timeline: Timeline, doc: MessageDoc): Promise<Record<string, number>> {
  const message = toChatMessage(doc);
  const seqs: Record<string, number> = {};
  await Promise.all(
    participants(doc).map(async ({ userId, peerId }) => {
      seqs[userId] = await timeline.append(userId, peerId, message);
    }),
  );
  return seqs;
}
