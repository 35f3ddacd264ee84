import { ObjectId } from 'mongodb';
import { notFound, RequestError, unavailable, type ChatMessage } from '@chat/common/contracts';
import type { TokenUser } from '@chat/common/jwt';
import type { UserDirectory } from '@chat/common/user-directory';
import { directConversationId, parseConversationId } from './conversation-id.js';
import type { ConversationsRepository } from './conversations-repo.js';
import { conversationNotFound, directMembershipOrNotFound } from './group-access.js';
import { idempotencyKey, toChatMessage, type MessageDoc, type NewMessageDoc } from './message.js';
import type { MessagesRepository } from './messages-repo.js';
import type { WriteMessage } from './message-writer.js';
import { appendToTimelines, type Timeline } from './timeline.js';
import type { SendRequest } from './validation.js';

export interface SendMessageDeps {
  messages: MessagesRepository;
  timeline: Timeline;
  conversations: ConversationsRepository;
  directory: UserDirectory;
  write: WriteMessage;
}

export interface SendResult {
  /** 201 for a new message, 200 for an idempotent repeat. */
  status: 200 | 201;
  message: ChatMessage;
}

export type SendMessage = (sender: TokenUser, request: SendRequest) => Promise<SendResult>;

export const idempotencyConflict = () =>
  new RequestError(422, 'idempotency_conflict', 'this clientMsgId was already used for a different message');

/** Where a message goes: a 1:1 recipient, or a group's members as they are now. */
type Destination =
  | { conversationId: string; to: { id: string; username: string } }
  | { conversationId: string; recipientIds: string[] };

/**
 * POST /chat/send: a text message to a user (`to`) or into a conversation (`conversationId`),
 * stored and delivered by the message writer. A group's members are read from the database on
 * every send, never from a cache: a member removed on another replica gets nothing sent after
 * the removal's 200.
 */
export function createSendMessage(deps: SendMessageDeps): SendMessage {
  async function destination(sender: TokenUser, request: SendRequest): Promise<Destination> {
    if (request.to !== undefined) {
      const recipient = await deps.directory.resolve(request.to);
      if (!recipient) throw notFound('user_not_found', 'no such user');
      return { conversationId: directConversationId(sender.id, recipient.id), to: recipient };
    }
    const ref = parseConversationId(request.conversationId);
    if (!ref) throw conversationNotFound();
    if (ref.type === 'direct') {
      // The peer's name comes from the sender's membership.
      const { peer } = await directMembershipOrNotFound(deps.conversations, ref, sender.id);
      return { conversationId: ref.id, to: peer };
    }
    const members = await deps.conversations.members(ref.id);
    if (!members.some((m) => m.userId === sender.id)) throw conversationNotFound();
    return { conversationId: ref.id, recipientIds: members.map((m) => m.userId) };
  }

  /**
   * A repeat: the sender already used this idempotency key. The answer is the original message,
   * or 422 when this request is a different message.
   */
  async function answerRepeat(sender: TokenUser, request: SendRequest, fresh: NewMessageDoc): Promise<SendResult> {
    const original = await deps.messages.findByIdempotencyKey(sender.id, fresh.idemKey);
    if (!original) throw unavailable('the original message could not be read, retry shortly');
    if (original.conversationId !== fresh.conversationId || original.text !== request.text || original.system) throw idempotencyConflict();
    // The first request may still be writing the timeline entries; make sure they exist
    // (idempotent) so a 200 means the same as a 201: visible to sync. Never published here.
    await appendToTimelines(deps.timeline, original);
    return { status: 200, message: toChatMessage(original) };
  }

  return async (sender, request) => {
    const where = await destination(sender, request);
    const _id = new ObjectId();
    const fresh: NewMessageDoc = {
      _id,
      conversationId: where.conversationId,
      fromId: sender.id,
      from: sender.username,
      ...('to' in where ? { toId: where.to.id, to: where.to.username } : { recipientIds: where.recipientIds }),
      text: request.text,
      createdAt: new Date(),
      ...(request.clientMsgId !== undefined ? { clientMsgId: request.clientMsgId } : {}),
      idemKey: idempotencyKey(_id, request.clientMsgId),
      published: false,
    };
    const stored: MessageDoc | 'repeat' = await deps.write(fresh);
    if (stored === 'repeat') return answerRepeat(sender, request, fresh);
    return { status: 201, message: toChatMessage(stored) };
  };
}
