/**
 * Conversations as Chat's API shows them (README "API", issue 13). Messages, with their group
 * and system fields, are @chat/common's contract; these are the shapes only clients read:
 * `GET /conversations/:id` and its list.
 */
import type { ChatMessage, UserRef } from '@chat/common/contracts';

export type { ChatMessage, SystemEvent, UserRef } from '@chat/common/contracts';

export type GroupRole = 'owner' | 'admin' | 'member';

export interface GroupMember extends UserRef {
  role: GroupRole;
}

/** `GET /conversations/:id` and the answer to every change. */
export interface GroupConversation {
  id: string;
  type: 'group';
  name: string;
  createdAt: string;
  createdBy: UserRef;
  members: GroupMember[];
}

/**
 * What `GET /conversations` says about reading (issue 14), on every entry. Optional: a Chat
 * from before receipts does not send them, and a client then counts from its own stream.
 * `unread` is messages from others after `readUpTo` (the caller's own mark), as of the list's
 * `lastMessage` (it lags the same way).
 */
export interface ReadFields {
  unread?: number;
  readUpTo?: string | null;
}

/** An entry of `GET /conversations`. `lastMessage` may lag the newest message by about a second. */
export type ConversationListEntry =
  | (ReadFields & {
      id: string;
      type: 'group';
      name: string;
      createdAt: string;
      createdBy: UserRef;
      /** In issue 13's contract, but Chat's list does not serve it (yet): a client must not count on it. */
      memberCount?: number;
      role: GroupRole;
      lastMessage: ChatMessage | null;
      lastActivityAt: string;
    })
  | (ReadFields & {
      id: string;
      type: 'direct';
      peer: UserRef;
      lastMessage: ChatMessage | null;
      lastActivityAt: string;
      /** The peer's read mark. */
      peerReadUpTo?: string | null;
    });

export interface ConversationPage {
  conversations: ConversationListEntry[];
  nextBefore: string | null;
}

/** `POST /conversations/:id/read`: the caller's mark after the call (unchanged when the message was older). */
export interface ReadResult {
  readUpTo: string;
  unread: number;
}

export interface Receipt {
  user: UserRef;
  readUpTo: string | null;
  at: string | null;
}

/** `GET /conversations/:id/receipts`. `receipts` is null for groups above RECEIPTS_MAX_MEMBERS: counts only. */
export interface Receipts {
  conversationId: string;
  memberCount: number;
  /** Members whose mark is at the conversation's newest message. */
  readLatestCount: number;
  receipts: Receipt[] | null;
}

/** `unknown`: not a contact of the caller (presence is not public), or no such user. */
export type PresenceStatus = 'online' | 'offline' | 'unknown';

/** An entry of `GET /presence`. `lastSeen` only with `offline`, and not for someone who never connected. */
export interface PresenceEntry {
  username: string;
  status: PresenceStatus;
  lastSeen?: string;
}

/** Where a message goes: a user (1:1) or a conversation id. */
export type SendTarget = { to: string; conversationId?: undefined } | { conversationId: string; to?: undefined };

export const isSystemMessage = (m: ChatMessage): boolean => m.kind === 'system';

/** A group's message: it has a conversation id and no recipient. */
export const isGroupMessage = (m: ChatMessage): boolean => m.to === undefined && typeof m.conversationId === 'string';

/** A conversation id rather than a username (usernames cannot hold ':'). */
export const isConversationId = (s: string): boolean => s.includes(':');
