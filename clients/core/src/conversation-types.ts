/**
 * Messages and conversations as Chat's API shows them (README "API", issue 13's contract).
 * Declared here rather than taken from @chat/common: a client reads what the wire carries,
 * including copies it saved before groups existed (no `conversationId`), so every field that
 * some message lacks is optional, and one flat shape covers text and system messages.
 */
export interface UserRef {
  id: string;
  username: string;
}

export type GroupRole = 'owner' | 'admin' | 'member';

/** What a system message reports; `text` says it in words, these say it to a program. */
export type SystemEvent = 'created' | 'member_added' | 'member_removed' | 'member_left' | 'renamed' | 'role_changed';

export interface ChatMessage {
  id: string;
  /** `g:<hex>` for a group, `dm:<idA>:<idB>` for a 1:1; absent only in copies saved before groups. */
  conversationId?: string;
  /** The sender's username (for a system message: who acted). */
  from: string;
  /** A 1:1's recipient. A group message has none: that is how a client tells the two apart. */
  to?: string;
  /** A system message's text is Chat's own sentence ("alice added bob"), shown as it is. */
  text: string;
  createdAt: string;
  clientMsgId?: string;
  /** Absent for a text message. */
  kind?: 'system';
  event?: SystemEvent;
  actor?: UserRef;
  users?: UserRef[];
  /** `created`, `renamed`: the group's name from then on. */
  name?: string;
  /** `role_changed`: the target's new role. */
  role?: GroupRole;
  /** `member_left` when the owner left: who owns the group now. */
  newOwner?: UserRef;
}

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
      memberCount: number;
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
