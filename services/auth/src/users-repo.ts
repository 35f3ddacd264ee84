import { ObjectId, type Collection, type Db } from 'mongodb';
import { RequestError, usernameKey } from '@chat/common/contracts';
import { indexesOnce, isDuplicateKey } from '@chat/common/mongo';

export interface PublicUser {
  id: string;
  username: string;
}

export interface StoredUser extends PublicUser {
  passwordHash: string;
}

interface UserDocument {
  /**
   * The lowercase username: the primary key is the uniqueness guard (case-insensitive without a
   * collation) and makes every lookup by name a primary-key read (mongo-portability.ts, rules 1
   * and 2).
   */
  _id: string;
  /** The opaque user id (ObjectId hex): the token's `sub`. */
  userId: string;
  /** The spelling chosen at registration, shown to everyone. */
  username: string;
  /** Kept for readability of the documents and for queries by hand. */
  usernameLower: string;
  passwordHash: string;
  createdAt: Date;
}

export const usernameTaken = () => new RequestError(409, 'username_taken', 'that username is already taken');

export interface UsersRepository {
  /** Creates the unique index on the user id; resolves once it exists. Safe to call repeatedly. */
  ensureIndexes(): Promise<void>;
  /** Throws 409 username_taken when the name is taken in any letter case. */
  create(user: { username: string; passwordHash: string }): Promise<PublicUser>;
  findByUsername(username: string): Promise<StoredUser | null>;
  exists(username: string): Promise<boolean>;
  updatePasswordHash(username: string, passwordHash: string): Promise<void>;
}

export function createUsersRepository(db: Db): UsersRepository {
  // `accounts`, not `users`: documents keyed by name replaced the earlier ObjectId-keyed shape.
  const users: Collection<UserDocument> = db.collection<UserDocument>('accounts');
  // The register race is guarded by the primary key; the user-id index guards the (random) ids.
  const ensureIndexes = indexesOnce(users, [{ key: { userId: 1 }, name: 'userId_unique', unique: true }]);

  return {
    ensureIndexes,
    async create({ username, passwordHash }) {
      await ensureIndexes();
      const userId = new ObjectId().toHexString();
      const key = usernameKey(username);
      try {
        await users.insertOne({ _id: key, userId, username, usernameLower: key, passwordHash, createdAt: new Date() });
      } catch (err) {
        if (isDuplicateKey(err)) throw usernameTaken();
        throw err;
      }
      return { id: userId, username };
    },
    async findByUsername(username) {
      const doc = await users.findOne({ _id: usernameKey(username) });
      return doc ? { id: doc.userId, username: doc.username, passwordHash: doc.passwordHash } : null;
    },
    async exists(username) {
      return (await users.findOne({ _id: usernameKey(username) }, { projection: { _id: 1 } })) !== null;
    },
    async updatePasswordHash(username, passwordHash) {
      await users.updateOne({ _id: usernameKey(username) }, { $set: { passwordHash } });
    },
  };
}
