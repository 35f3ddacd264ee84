import type { Db } from 'mongodb';
import { insertIgnoringRepeats } from '@chat/common/mongo';

/**
 * When each user's last socket closed (collection `last_seen`, one document per user, `_id` the
 * user id). Only a user going offline writes here, never a connect; and writes are batched:
 * {@link LastSeenRepository.record} takes everything that went offline in one interval, inserts
 * the users seen for the first time in one insertMany, and moves the others forward with one
 * updateMany per distinct second (a dead pod's users all share one), never one update per user
 * (mongo-portability.ts, rule 4). `$lt` keeps an older time from overwriting a newer one.
 */
export interface LastSeenRepository {
  /** Returns how many write commands it took. */
  record(lastSeen: ReadonlyMap<string, number>): Promise<number>;
  /** Epoch ms per user id that has one. */
  find(userIds: readonly string[]): Promise<Map<string, number>>;
}

interface LastSeenDoc {
  _id: string;
  lastSeen: Date;
}

export const LAST_SEEN_COLLECTION = 'last_seen';

export function createLastSeenRepository(db: Db): LastSeenRepository {
  const collection = db.collection<LastSeenDoc>(LAST_SEEN_COLLECTION);
  return {
    async record(lastSeen) {
      if (lastSeen.size === 0) return 0;
      const bySecond = new Map<number, string[]>();
      for (const [userId, at] of lastSeen) {
        const second = Math.floor(at / 1000) * 1000;
        const ids = bySecond.get(second) ?? [];
        ids.push(userId);
        bySecond.set(second, ids);
      }
      let commands = 1;
      await insertIgnoringRepeats(
        collection,
        [...bySecond].flatMap(([second, ids]) => ids.map((_id) => ({ _id, lastSeen: new Date(second) }))),
      );
      for (const [second, ids] of bySecond) {
        commands++;
        const at = new Date(second);
        await collection.updateMany({ _id: { $in: ids }, lastSeen: { $lt: at } }, { $set: { lastSeen: at } });
      }
      return commands;
    },

    async find(userIds) {
      // One equality read per user (rule 2): `$in` would read the whole collection there.
      const docs = await Promise.all(userIds.map((_id) => collection.findOne({ _id })));
      const found = new Map<string, number>();
      for (const doc of docs) if (doc) found.set(doc._id, doc.lastSeen.getTime());
      return found;
    },
  };
}
