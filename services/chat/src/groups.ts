import { ObjectId } from 'mongodb';
import { invalidRequest, notFound, forbidden, usernameKey, type UserRef } from '@chat/common/contracts';
import type { TokenUser } from '@chat/common/jwt';
import type { UserDirectory } from '@chat/common/user-directory';
import { newGroupConversationId, parseConversationId } from './conversation-id.js';
import { membershipId, type ConversationsRepository, type GroupDoc, type Member, type MembershipDoc } from './conversations-repo.js';
import { conversationNotFound, isRole, memberOrNotFound, requireManager, requireOwner, successor } from './group-access.js';
import { idempotencyKey, type MessageDoc, type SystemFields } from './message.js';
import type { WriteMessage } from './message-writer.js';
import { parseGroupName, parseMemberNames, parseUsernamePath } from './validation.js';

/** A group as the API shows it. */
export interface GroupView {
  id: string;
  type: 'group';
  name: string;
  createdAt: string;
  createdBy: UserRef;
  members: Array<UserRef & { role: string }>;
}

export interface GroupsDeps {
  conversations: ConversationsRepository;
  directory: UserDirectory;
  write: WriteMessage;
  /** MAX_GROUP_MEMBERS: the most members a group may have, its owner included. */
  maxMembers: number;
}

export interface Groups {
  create(caller: TokenUser, body: Record<string, unknown>): Promise<GroupView>;
  /** The group for a member; 404 conversation_not_found for anyone else. */
  view(caller: TokenUser, id: string): Promise<GroupView>;
  rename(caller: TokenUser, id: string, body: Record<string, unknown>): Promise<GroupView>;
  addMembers(caller: TokenUser, id: string, body: Record<string, unknown>): Promise<GroupView>;
  /** Removes a member, or the caller (leaving: undefined, answered 204). */
  removeMember(caller: TokenUser, id: string, username: string): Promise<GroupView | undefined>;
  setRole(caller: TokenUser, id: string, username: string, body: Record<string, unknown>): Promise<GroupView>;
}

/**
 * Group membership and its history. Every change is one write to the memberships it concerns
 * plus exactly one system message in the conversation, written like any message (the message
 * writer), so it reaches every member's sync stream and sockets in order with the rest. An
 * action that changes nothing (adding a member, renaming to the same name) writes nothing.
 *
 * Order, without transactions: a removal deletes the membership before its system message, so
 * a send that starts after the removal's 200 never reads the removed member; an addition writes
 * its system message first and the memberships after it, with `since` = that message's
 * position, so the new member reads nothing older. A send racing a change (started before the
 * change's answer) may or may not reach the member concerned; nothing else does.
 */
export function createGroups(deps: GroupsDeps): Groups {
  const { conversations } = deps;

  async function groupAndMembers(caller: TokenUser, id: string): Promise<{ group: GroupDoc; members: Member[]; me: Member }> {
    const ref = parseConversationId(id);
    if (ref?.type !== 'group') throw conversationNotFound();
    await conversations.ensureIndexes();
    const [group, members] = await Promise.all([conversations.group(id), conversations.members(id)]);
    if (!group) throw conversationNotFound();
    return { group, members, me: memberOrNotFound(members, caller.id) };
  }

  const show = (group: GroupDoc, members: readonly Member[]): GroupView => ({
    id: group._id,
    type: 'group',
    name: group.name,
    createdAt: group.createdAt.toISOString(),
    createdBy: group.createdBy,
    members: members.map((m) => ({ id: m.userId, username: m.username, role: m.role ?? 'member' })),
  });

  async function current(id: string): Promise<GroupView> {
    const [group, members] = await Promise.all([conversations.group(id), conversations.members(id)]);
    if (!group) throw conversationNotFound();
    return show(group, members);
  }

  /** Every named user, or 404 user_not_found naming the first unknown one (in the order given). */
  async function resolveAll(names: string[]): Promise<UserRef[]> {
    const found = await Promise.all(names.map((name) => deps.directory.resolve(name)));
    const unknown = found.findIndex((user) => !user);
    if (unknown >= 0) throw notFound('user_not_found', `no such user: ${names[unknown]}`);
    const byId = new Map(found.map((user) => [user!.id, { id: user!.id, username: user!.username }]));
    return [...byId.values()];
  }

  /** The one system message of a change, to `recipientIds`. */
  function writeSystem(actor: UserRef, conversationId: string, recipientIds: Iterable<string>, system: SystemFields, text: string): Promise<MessageDoc> {
    const _id = new ObjectId();
    return deps.write({
      _id,
      conversationId,
      fromId: actor.id,
      from: actor.username,
      recipientIds: [...new Set(recipientIds)],
      text,
      createdAt: new Date(),
      system,
      idemKey: idempotencyKey(_id, undefined),
      published: false,
    }) as Promise<MessageDoc>; // an own-id key is never a repeat
  }

  /** Memberships joined at `at`, in the order listed: each one a millisecond after the previous, so tenure has no ties. */
  function newMemberships(group: GroupDoc, users: Array<UserRef & { role: Member['role'] }>, since: number, at: Date, memberCount: number): MembershipDoc[] {
    return users.map((user, i) => ({
      _id: membershipId(group._id, user.id),
      conversationId: group._id,
      type: 'group',
      userId: user.id,
      username: user.username,
      joinedAt: new Date(at.getTime() + i),
      role: user.role,
      since,
      name: group.name,
      groupCreatedAt: group.createdAt,
      createdBy: group.createdBy,
      memberCount,
      lastPosition: 0,
      lastActivityAt: at,
      lastMessageJson: null,
    }));
  }

  /** A member named in a path, by username (letter case ignored); 404 user_not_found when nobody in the group has that name. */
  function memberNamed(members: readonly Member[], username: unknown): Member {
    const key = usernameKey(parseUsernamePath(username));
    const member = members.find((m) => usernameKey(m.username) === key);
    if (!member) throw notFound('user_not_found', 'no member of this conversation has that name');
    return member;
  }

  const ref = (m: Member): UserRef => ({ id: m.userId, username: m.username });
  const userList = (users: readonly UserRef[]) =>
    users.length <= 5 ? users.map((u) => u.username).join(', ') : `${users.slice(0, 5).map((u) => u.username).join(', ')} and ${users.length - 5} others`;

  return {
    async create(caller, body) {
      const name = parseGroupName(body.name);
      const names = parseMemberNames(body.members, caller.username, deps.maxMembers - 1);
      const others = (await resolveAll(names)).filter((u) => u.id !== caller.id);
      if (others.length === 0) throw invalidRequest('members must name at least one user other than the caller');
      await conversations.ensureIndexes();
      const now = new Date();
      const createdBy = { id: caller.id, username: caller.username };
      const everyone = [{ ...createdBy, role: 'owner' as const }, ...others.map((u) => ({ ...u, role: 'member' as const }))];
      const group: GroupDoc = { _id: newGroupConversationId(), name, createdAt: now, createdBy, memberCount: everyone.length };
      await conversations.insertGroup(group);
      // The conversation is new, so its first message (below) is at position 1.
      await conversations.addMemberships(newMemberships(group, everyone, 1, now, everyone.length));
      await writeSystem(group.createdBy, group._id, everyone.map((u) => u.id), { event: 'created', users: others, name }, `${caller.username} created "${name}" with ${userList(others)}`);
      return current(group._id);
    },

    async view(caller, id) {
      const { group, members } = await groupAndMembers(caller, id);
      return show(group, members);
    },

    async rename(caller, id, body) {
      const name = parseGroupName(body.name);
      const { group, members, me } = await groupAndMembers(caller, id);
      requireManager(me, 'rename the group');
      if (group.name === name) return show(group, members);
      await conversations.rename(id, name);
      await writeSystem(ref(me), id, members.map((m) => m.userId), { event: 'renamed', users: [], name }, `${me.username} renamed the group to "${name}"`);
      return current(id);
    },

    async addMembers(caller, id, body) {
      const { group, members, me } = await groupAndMembers(caller, id);
      requireManager(me, 'add members');
      const names = parseMemberNames(body.members, caller.username, deps.maxMembers - 1);
      const present = new Set(members.map((m) => m.userId));
      const newcomers = (await resolveAll(names)).filter((u) => !present.has(u.id));
      if (newcomers.length === 0) return show(group, members);
      if (members.length + newcomers.length > deps.maxMembers) throw invalidRequest(`a group has at most ${deps.maxMembers} members, the owner included`);
      const added = await writeSystem(ref(me), id, [...present, ...newcomers.map((u) => u.id)], { event: 'member_added', users: newcomers }, `${me.username} added ${userList(newcomers)}`);
      const count = members.length + newcomers.length;
      await conversations.addMemberships(newMemberships(group, newcomers.map((u) => ({ ...u, role: 'member' })), added.position, added.createdAt, count));
      await conversations.setMemberCount(id, count);
      return current(id);
    },

    async removeMember(caller, id, username) {
      const { members, me } = await groupAndMembers(caller, id);
      const target = memberNamed(members, username);
      const remaining = members.filter((m) => m.userId !== target.userId);
      if (target.userId === me.userId) {
        await conversations.removeMembership(id, me.userId);
        await conversations.setMemberCount(id, remaining.length);
        const heir = me.role === 'owner' ? successor(remaining) : undefined;
        if (heir) await conversations.setRole(id, heir.userId, 'owner');
        const text = heir ? `${me.username} left; ${heir.username} is now the owner` : `${me.username} left`;
        await writeSystem(ref(me), id, [...remaining.map((m) => m.userId), me.userId], { event: 'member_left', users: [ref(me)], ...(heir ? { newOwner: ref(heir) } : {}) }, text);
        return undefined;
      }
      requireManager(me, 'remove members');
      if (target.role === 'owner') throw forbidden('the owner cannot be removed');
      await conversations.removeMembership(id, target.userId);
      await conversations.setMemberCount(id, remaining.length);
      await writeSystem(ref(me), id, [...remaining.map((m) => m.userId), target.userId], { event: 'member_removed', users: [ref(target)] }, `${me.username} removed ${target.username}`);
      return current(id);
    },

    async setRole(caller, id, username, body) {
      const { group, members, me } = await groupAndMembers(caller, id);
      requireOwner(me, 'change roles');
      const role = body.role;
      if (!isRole(role)) throw invalidRequest('role must be "admin" or "member"');
      const target = memberNamed(members, username);
      if (target.role === 'owner') throw invalidRequest("the owner's role cannot be changed (the owner leaving passes it on)");
      if (target.role === role) return show(group, members);
      await conversations.setRole(id, target.userId, role);
      const text = `${me.username} made ${target.username} ${role === 'admin' ? 'an admin' : 'a member'}`;
      await writeSystem(ref(me), id, members.map((m) => m.userId), { event: 'role_changed', users: [ref(target)], role }, text);
      return current(id);
    },
  };
}
