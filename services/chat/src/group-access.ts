import { forbidden, notFound } from '@chat/common/contracts';
import { peerIn, type ConversationRef } from './conversation-id.js';
import { byTenure, type ConversationsRepository, type Member, type MembershipDoc, type Role } from './conversations-repo.js';

/**
 * Who may do what in a group. Non-members and unknown ids get the same 404, so a probe learns
 * nothing about conversations it is not in; members whose role is too low get 403.
 */
export const conversationNotFound = () => notFound('conversation_not_found', 'no such conversation');

/** The caller's membership, or the 404 every non-member gets. */
export function memberOrNotFound(members: readonly Member[], userId: string): Member {
  const member = members.find((m) => m.userId === userId);
  if (!member) throw conversationNotFound();
  return member;
}

/**
 * The caller's side of a 1:1 conversation, with its peer; 404 for anyone else. The membership
 * exists once the conversation has had a message (conversation-activity.ts): from then on the
 * list shows it, and it can be read and sent to by id.
 */
export async function directMembershipOrNotFound(conversations: ConversationsRepository, ref: Extract<ConversationRef, { type: 'direct' }>, userId: string): Promise<MembershipDoc & { peer: NonNullable<MembershipDoc['peer']> }> {
  const membership = peerIn(ref, userId) === undefined ? null : await conversations.membership(ref.id, userId);
  if (!membership?.peer) throw conversationNotFound();
  return membership as MembershipDoc & { peer: NonNullable<MembershipDoc['peer']> };
}

/** Renaming and adding or removing others: owner or admin. */
export function requireManager(member: Member, action: string): void {
  if (member.role !== 'owner' && member.role !== 'admin') throw forbidden(`only the owner or an admin can ${action}`);
}

/** Changing roles: the owner only. */
export function requireOwner(member: Member, action: string): void {
  if (member.role !== 'owner') throw forbidden(`only the owner can ${action}`);
}

/** Who becomes owner when the owner leaves: the longest-standing admin, else the longest-standing member. */
export function successor(remaining: readonly Member[]): Member | undefined {
  const senior = [...remaining].sort(byTenure);
  return senior.find((m) => m.role === 'admin') ?? senior[0];
}

export const isRole = (value: unknown): value is Exclude<Role, 'owner'> => value === 'admin' || value === 'member';
