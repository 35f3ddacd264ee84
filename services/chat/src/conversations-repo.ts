import type { Db } from 'mongodb';
import type { UserRef } from '@chat/common/contracts';
import { indexesOnce, insertIgnoringRepeats } from '@chat/common/mongo';

export type Role = 'owner' | 'admin' | 'member';

/** A group: what does not change with its membership. Members are {@link MembershipDoc}s. */
export interface GroupDoc {
  /** `g:<hex>` (conversation-id.ts). */
  _id: string;
  name: string;
  createdAt: Date;
  createdBy: UserRef;
  /**
   * Members now, written by every membership change (absent on groups created before it was kept
   * here: the list then shows its membership copy).
   */
  memberCount?: number;
}

/** What the conversation list shows of a group, from the documents only its own changes write. */
export interface GroupListFields {
  name: string;
  memberCount?: number;
  /** The caller's role, from the authority (group_members). */
  role?: Role;
}

/**
 * One user's entry in one conversation, group or direct: what the conversation list reads (its
 * order, last message, and a copy of the group's name, count and the user's role for display).
 * One document per (conversation, user), so a change to one member writes one document.
 *
 * Who may read and send is NOT decided from these: the list's fields are rewritten by one
 * `updateMany` per conversation (activity, renames, counts), and on the local default database
 * an update rewrites the whole document after reading it (mongo-portability.ts, rule 1), so a
 * role written meanwhile could be put back. The authority is {@link GroupMemberDoc}, which only
 * membership changes write, one document at a time.
 */
export interface MembershipDoc {
  /** `<conversationId>#<userId>`: the guard against a second membership of the same user. */
  _id: string;
  conversationId: string;
  type: 'group' | 'direct';
  userId: string;
  username: string;
  joinedAt: Date;
  /** Group: owner, admin or member (a copy for the list; {@link GroupMemberDoc} decides). */
  role?: Role;
  /** Group: the first position this member sees, given when joining (kept in {@link GroupMemberDoc}). */
  since?: number;
  /** Group, copied so that a list page needs no second read (a rename updates every copy). */
  name?: string;
  groupCreatedAt?: Date;
  createdBy?: UserRef;
  /** Group: how many members it has, rewritten on every membership change (the list shows it). */
  memberCount?: number;
  /** Direct: the other user. */
  peer?: UserRef;
  /** The newest message known to the activity writer (conversation-activity.ts), as the API shows it. */
  lastPosition: number;
  lastActivityAt: Date;
  lastMessageJson: string | null;
}

/** A group member: the authority on who reads, sends and manages (collection `group_members`). */
export interface GroupMemberDoc {
  /** The same id as the member's list entry. */
  _id: string;
  conversationId: string;
  userId: string;
  username: string;
  role: Role;
  joinedAt: Date;
  /** The first position of the conversation this member sees (the message that added them). */
  since: number;
}

/** A member as the send path and the role checks need it. */
export type Member = Pick<GroupMemberDoc, 'userId' | 'username' | 'role' | 'joinedAt' | 'since'>;

/** Longest-standing first: joined earlier, or at the same moment but readable from an earlier position. */
export const byTenure = (a: Member, b: Member) => a.joinedAt.getTime() - b.joinedAt.getTime() || a.since - b.since;

export const membershipId = (conversationId: string, userId: string) => `${conversationId}#${userId}`;

export interface ActivityUpdate {
  conversationId: string;
  position: number;
  at: Date;
  messageJson: string;
}

export interface ConversationsRepository {
  ensureIndexes(): Promise<void>;
  insertGroup(group: GroupDoc): Promise<void>;
  group(id: string): Promise<GroupDoc | null>;
  rename(id: string, name: string): Promise<void>;
  /** The group's members, oldest membership first. */
  members(conversationId: string): Promise<Member[]>;
  membership(conversationId: string, userId: string): Promise<MembershipDoc | null>;
  /**
   * Inserts list entries, and for a group's the members themselves; one that exists already is
   * left as it is (a repeat, or a race with the same change).
   */
  addMemberships(docs: MembershipDoc[]): Promise<void>;
  removeMembership(conversationId: string, userId: string): Promise<void>;
  setRole(conversationId: string, userId: string, role: Role): Promise<void>;
  /** Writes a group's member count into its group document and every membership (one updateMany). */
  setMemberCount(conversationId: string, memberCount: number): Promise<void>;
  /**
   * The list's group fields for `userId` in the groups `ids`, by id: the name and count from the
   * group documents, the role from group_members (two reads, by _id). The membership copies of
   * these can be put back by the activity writer's concurrent updateMany on the local default
   * database (an update there rewrites the whole document it read: mongo-portability.ts, rule 1),
   * so a count or role changed meanwhile would stay wrong until the next change.
   */
  groupListFields(userId: string, ids: string[]): Promise<Map<string, GroupListFields>>;
  /** Every conversation of a user, as the contacts lookup needs it (no order). */
  entriesOf(userId: string): Promise<Pick<MembershipDoc, 'conversationId' | 'type' | 'peer'>[]>;
  /** A user's conversations, most recent activity first, below `before` when given. */
  list(userId: string, before: { at: Date; conversationId: string } | undefined, limit: number): Promise<MembershipDoc[]>;
  /** Moves every membership of the conversation to this newest message (never backwards). */
  recordActivity(update: ActivityUpdate): Promise<void>;
}

export const GROUPS_COLLECTION = 'groups';
export const MEMBERSHIPS_COLLECTION = 'memberships';
export const GROUP_MEMBERS_COLLECTION = 'group_members';

const MEMBER_FIELDS = { _id: 0, userId: 1, username: 1, role: 1, joinedAt: 1, since: 1 } as const;

export function createConversationsRepository(db: Db): ConversationsRepository {
  const groups = db.collection<GroupDoc>(GROUPS_COLLECTION);
  const memberships = db.collection<MembershipDoc>(MEMBERSHIPS_COLLECTION);
  const groupMembers = db.collection<GroupMemberDoc>(GROUP_MEMBERS_COLLECTION);
  const ensureMemberIndexes = indexesOnce(groupMembers, [{ key: { conversationId: 1 }, name: 'conversation' }]);
  const ensureMembershipIndexes = indexesOnce(memberships, [
    // The list: equality on the user (mongo-portability.ts, rule 2), newest activity first.
    { key: { userId: 1, lastActivityAt: -1 }, name: 'user_activity' },
    // A group's members, and the activity writer's one updateMany per conversation.
    { key: { conversationId: 1 }, name: 'conversation' },
  ]);

  return {
    // Groups are read by _id only: no index of their own.
    async ensureIndexes() {
      await ensureMembershipIndexes();
      await ensureMemberIndexes();
    },

    async insertGroup(group) {
      await groups.insertOne(group);
    },

    group(id) {
      return groups.findOne({ _id: id });
    },

    async rename(id, name) {
      await groups.updateOne({ _id: id }, { $set: { name } });
      await memberships.updateMany({ conversationId: id }, { $set: { name } });
    },

    async members(conversationId) {
      const found = await groupMembers.find({ conversationId }, { projection: MEMBER_FIELDS }).toArray();
      return (found as Member[]).sort(byTenure);
    },

    membership(conversationId, userId) {
      return memberships.findOne({ _id: membershipId(conversationId, userId) });
    },

    async addMemberships(docs) {
      if (docs.length === 0) return;
      const members: GroupMemberDoc[] = docs
        .filter((d) => d.type === 'group')
        .map(({ _id, conversationId, userId, username, role, joinedAt, since }) => ({ _id, conversationId, userId, username, role: role ?? 'member', joinedAt, since: since ?? 1 }));
      // The members first: a list entry never shows a group its user cannot open.
      await insertIgnoringRepeats(groupMembers, members);
      await insertIgnoringRepeats(memberships, docs);
    },

    async removeMembership(conversationId, userId) {
      await groupMembers.deleteOne({ _id: membershipId(conversationId, userId) });
      await memberships.deleteOne({ _id: membershipId(conversationId, userId) });
    },

    async setRole(conversationId, userId, role) {
      await groupMembers.updateOne({ _id: membershipId(conversationId, userId) }, { $set: { role } });
      await memberships.updateOne({ _id: membershipId(conversationId, userId) }, { $set: { role } }); // the list's copy
    },

    async setMemberCount(conversationId, memberCount) {
      await groups.updateOne({ _id: conversationId }, { $set: { memberCount } });
      await memberships.updateMany({ conversationId }, { $set: { memberCount } }); // the list's copy
    },

    async groupListFields(userId, ids) {
      const found = new Map<string, GroupListFields>();
      if (ids.length === 0) return found;
      const [docs, roles] = await Promise.all([
        groups.find({ _id: { $in: ids } }, { projection: { _id: 1, name: 1, memberCount: 1 } }).toArray(),
        groupMembers.find({ _id: { $in: ids.map((id) => membershipId(id, userId)) } }, { projection: { _id: 0, conversationId: 1, role: 1 } }).toArray(),
      ]);
      const roleOf = new Map(roles.map((m) => [m.conversationId, m.role]));
      for (const g of docs) found.set(g._id, { name: g.name, memberCount: g.memberCount, role: roleOf.get(g._id) });
      return found;
    },

    entriesOf(userId) {
      return memberships.find({ userId }, { projection: { _id: 0, conversationId: 1, type: 1, peer: 1 } }).toArray();
    },

    list(userId, before, limit) {
      const filter = before
        ? { userId, $or: [{ lastActivityAt: { $lt: before.at } }, { lastActivityAt: before.at, conversationId: { $lt: before.conversationId } }] }
        : { userId };
      return memberships.find(filter).sort({ lastActivityAt: -1, conversationId: -1 }).limit(limit).toArray();
    },

    async recordActivity({ conversationId, position, at, messageJson }) {
      // Equality on the conversation first (rule 2); the position test keeps a late writer (another
      // replica, or an older batch) from moving the list backwards.
      await memberships.updateMany(
        { conversationId, lastPosition: { $lt: position } },
        { $set: { lastPosition: position, lastActivityAt: at, lastMessageJson: messageJson } },
      );
    },
  };
}
