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

/** An entry of `GET /conversations`. `lastMessage` may lag the newest message by about a second. */
export type ConversationListEntry =
  | {
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
    }
  | {
      id: string;
      type: 'direct';
      peer: UserRef;
      lastMessage: ChatMessage | null;
      lastActivityAt: string;
    };

export interface ConversationPage {
  conversations: ConversationListEntry[];
  nextBefore: string | null;
}

/** Where a message goes: a user (1:1) or a conversation id. */
export type SendTarget = { to: string; conversationId?: undefined } | { conversationId: string; to?: undefined };

export const isSystemMessage = (m: ChatMessage): boolean => m.kind === 'system';

/** A group's message: it has a conversation id and no recipient. */
export const isGroupMessage = (m: ChatMessage): boolean => m.to === undefined && typeof m.conversationId === 'string';

/** A conversation id rather than a username (usernames cannot hold ':'). */
export const isConversationId = (s: string): boolean => s.includes(':');
