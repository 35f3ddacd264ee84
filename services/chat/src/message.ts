import type { ObjectId } from 'mongodb';
import type { ChatMessage, SystemEvent, UserRef } from '@chat/common/contracts';

/** What a system message records, beyond its actor (the sender). */
export interface SystemFields {
  event: SystemEvent;
  users: UserRef[];
  name?: string;
  role?: 'admin' | 'member';
  newOwner?: UserRef;
}

/**
 * A stored message: the API fields, the sender's id, its recipients, its place in its
 * conversation, its idempotency key, and its publish state (the transactional outbox lives on
 * the message itself: there are no multi-document transactions to rely on, and one document is
 * written atomically).
 */
export interface MessageDoc {
  _id: ObjectId;
  /** The conversation it belongs to (see conversation-id.ts). */
  conversationId: string;
  /** Its position in the conversation, from 1, gap-free (see bucketed-sequence.ts). */
  position: number;
  /** `<conversationId>:<position ÷ 100>`: what history reads are keyed on. */
  bucket?: string;
  fromId: string;
  from: string;
  /** The recipient of a 1:1 message; absent for a group's. */
  toId?: string;
  to?: string;
  /**
   * A group message's recipients: the members when it was stored (plus, for a system message,
   * whoever it removed). The relay completes a crashed send's timelines from this list, so a
   * membership change in between never changes who gets a stored message. Never read by history.
   */
  recipientIds?: string[];
  text: string;
  createdAt: Date;
  clientMsgId?: string;
  /** Present on system messages only. */
  system?: SystemFields;
  /**
   * Unique per sender: `c:<clientMsgId>` when the client sent one, else `m:<own id>`. Never
   * null, so the unique index needs no partial filter (mongo-portability.ts, rule 3) and never
   * collides between messages sent without a clientMsgId.
   */
  idemKey: string;
  /** False until the event was confirmed by the broker. */
  published: boolean;
  publishedAt?: Date;
}

/** A message before it has its place in the conversation. */
export type NewMessageDoc = Omit<MessageDoc, 'position' | 'bucket'>;

export function idempotencyKey(id: ObjectId, clientMsgId: string | undefined): string {
  return clientMsgId === undefined ? `m:${id.toHexString()}` : `c:${clientMsgId}`;
}

/** The message as the API and the events show it. */
export function toChatMessage(doc: Pick<MessageDoc, '_id' | 'conversationId' | 'from' | 'fromId' | 'to' | 'text' | 'createdAt' | 'clientMsgId' | 'system'>): ChatMessage {
  // `id` then `conversationId` first: sync recognizes entries stored before conversations by that opening.
  const message: ChatMessage = {
    id: doc._id.toHexString(),
    conversationId: doc.conversationId,
    from: doc.from,
    ...(doc.to !== undefined ? { to: doc.to } : {}),
    text: doc.text,
    createdAt: doc.createdAt.toISOString(),
  };
  if (doc.clientMsgId !== undefined) message.clientMsgId = doc.clientMsgId;
  if (doc.system) {
    const { event, users, name, role, newOwner } = doc.system;
    Object.assign(message, { kind: 'system', event, actor: { id: doc.fromId, username: doc.from }, users });
    if (name !== undefined) message.name = name;
    if (role !== undefined) message.role = role;
    if (newOwner !== undefined) message.newOwner = newOwner;
  }
  return message;
}

/** Whose timelines a message belongs to: its recipients (a group's), else the 1:1 participants (one for a message to oneself). */
export function recipientsOf(doc: Pick<MessageDoc, 'fromId' | 'toId' | 'recipientIds'>): string[] {
  if (doc.recipientIds) return doc.recipientIds;
  if (doc.toId === undefined || doc.fromId === doc.toId) return [doc.fromId];
  return [doc.fromId, doc.toId];
}
