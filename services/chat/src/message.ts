import type { ObjectId } from 'mongodb';
import type { ChatMessage } from '@chat/common/contracts';

/**
 * A stored message: the API fields, the participants' ids, its place in its conversation, its
 * idempotency key, and its publish state (the transactional outbox lives on the message itself:
 * there are no multi-document transactions to rely on, and one document is written atomically).
 */
export interface MessageDoc {
  _id: ObjectId;
  /** The conversation it belongs to (see {@link directConversationId}). */
  conversationId: string;
  /** Its position in the conversation, from 1, gap-free (see bucketed-sequence.ts). */
  position: number;
  /** `<conversationId>:<position ÷ 100>`: what history reads are keyed on. */
  bucket?: string;
  fromId: string;
  from: string;
  toId: string;
  to: string;
  text: string;
  createdAt: Date;
  clientMsgId?: string;
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

/** The conversation of two users (or of a user with themself): the same id whoever sends. */
export function directConversationId(userA: string, userB: string): string {
  return userA <= userB ? `dm:${userA}:${userB}` : `dm:${userB}:${userA}`;
}

/** The message as the API and the events show it. */
export function toChatMessage(doc: Pick<MessageDoc, '_id' | 'from' | 'to' | 'text' | 'createdAt' | 'clientMsgId'>): ChatMessage {
  const message: ChatMessage = { id: doc._id.toHexString(), from: doc.from, to: doc.to, text: doc.text, createdAt: doc.createdAt.toISOString() };
  if (doc.clientMsgId !== undefined) message.clientMsgId = doc.clientMsgId;
  return message;
}

/** Whose timelines a message belongs to, with the other side of the conversation for each (one entry for a message to oneself). */
export function participants(doc: Pick<MessageDoc, 'fromId' | 'toId'>): Array<{ userId: string; peerId: string }> {
  if (doc.fromId === doc.toId) return [{ userId: doc.fromId, peerId: doc.fromId }];
  return [
    { userId: doc.fromId, peerId: doc.toId },
    { userId: doc.toId, peerId: doc.fromId },
  ];
}
