import { MongoServerError, ObjectId, type Collection, type Db } from 'mongodb';
import { RequestError } from '@chat/common';
import { usernameKey } from './validation.js';

export interface PublicUser {
  id: string;
  username: string;
}

export interface StoredUser extends PublicUser {
  passwordHash: string;
}

interface UserDocument {
  _id: ObjectId;
  /** The spelling chosen at registration, shown to everyone. */
  username: string;
  /**
   * The uniqueness key. FerretDB has no collation, so case-insensitive uniqueness is a unique
   * index on a stored lowercase copy; it also works unchanged on MongoDB.
   */
  usernameLower: string;
  passwordHash: string;
  createdAt: Date;
}

const DUPLICATE_KEY = 11000;

export const usernameTaken = () => new RequestError(409, 'username_taken', 'that username is already taken');

export interface UsersRepository {
  /** Creates the unique index; resolves once it exists. Safe to call repeatedly. */
  ensureIndexes(): Promise<void>;
  /** Throws 409 username_taken when the name is taken in any letter case. */
  create(user: { username: string; passwordHash: string }): Promise<PublicUser>;
  findByUsername(username: string): Promise<StoredUser | null>;
  exists(username: string): Promise<boolean>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
}

export function createUsersRepository(db: Db): UsersRepository {
  const users: Collection<UserDocument> = db.collection<UserDocument>('users');
  let indexed: Promise<void> | undefined;

  // Every write waits for the unique index: it is the only guard against the register race.
  const ensureIndexes = () =>
    (indexed ??= users
      .createIndex({ usernameLower: 1 }, { unique: true, name: 'usernameLower_unique' })
      .then(() => undefined)
      .catch((err: unknown) => {
        indexed = undefined; // retried by the next caller
        throw err;
      }));

  return {
    ensureIndexes,
    async create({ username, passwordHash }) {
      await ensureIndexes();
      const _id = new ObjectId();
      try {
        await users.insertOne({ _id, username, usernameLower: usernameKey(username), passwordHash, createdAt: new Date() });
      } catch (err) {
        if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw usernameTaken();
        throw err;
      }
      return { id: _id.toHexString(), username };
    },
    async findByUsername(username) {
      const doc = await users.findOne({ usernameLower: usernameKey(username) });
      return doc ? { id: doc._id.toHexString(), username: doc.username, passwordHash: doc.passwordHash } : null;
    },
    async exists(username) {
      return (await users.countDocuments({ usernameLower: usernameKey(username) }, { limit: 1 })) > 0;
    },
    async updatePasswordHash(id, passwordHash) {
      await users.updateOne({ _id: new ObjectId(id) }, { $set: { passwordHash } });
    },
  };
}
