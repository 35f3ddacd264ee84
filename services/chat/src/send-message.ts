import { ObjectId } from 'mongodb';
import { notFound, RequestError, unavailable, type ChatMessage } from '@chat/common/contracts';
import type { TokenUser } from '@chat/common/jwt';
import type { UserDirectory } from '@chat/common/user-directory';
import type { ChatMetrics } from './chat-metrics.js';
import { directConversationId, idempotencyKey, toChatMessage, type MessageDoc, type NewMessageDoc } from './message.js';
import type { TimelineSeqs } from './message-event.js';
import type { MessagesRepository } from './messages-repo.js';
import { appendToTimelines, type Timeline } from './timeline.js';
import type { SendRequest } from './validation.js';

export type CrashPoint = 'after_insert' | 'after_timeline';

export interface SendMessageDeps {
  messages: MessagesRepository;
  timeline: Timeline;
  relay: {
    claim(id: ObjectId): void;
    release(id: ObjectId): void;
    dispatch(doc: MessageDoc, seqs: TimelineSeqs): void;
  };
  directory: UserDirectory;
  metrics: ChatMetrics;
  /** Test hook (NODE_ENV=test only): die right there, as a crash would. */
  crashPoint?: CrashPoint | undefined;
}

export interface SendResult {
  /** 201 for a new message, 200 for an idempotent repeat. */
  status: 200 | 201;
  message: ChatMessage;
}

export type SendMessage = (sender: TokenUser, request: SendRequest) => Promise<SendResult>;

export const idempotencyConflict = () =>
  new RequestError(422, 'idempotency_conflict', 'this clientMsgId was already used for a different message');

/**
 * Stores a message and gets its event on its way. Without transactions the order is what
 * makes it safe: insert at the next position of its conversation (publish state pending) →
 * timeline entries → publish → mark published.
 * Whatever a crash interrupts, the outbox relay completes from the stored message. The client
 * gets 201 once the message is stored and visible to sync/history; publishing never blocks it.
 */
export function createSendMessage(deps: SendMessageDeps): SendMessage {
  const crash = (point: CrashPoint) => {
    if (deps.crashPoint === point) process.kill(process.pid, 'SIGKILL');
  };

  /**
   * A repeat: the sender already used this idempotency key. The answer is the original message,
   * or 422 when this request is a different message.
   */
  async function answerRepeat(sender: TokenUser, request: SendRequest, idemKey: string, recipientId: string): Promise<SendResult> {
    const original = await deps.messages.findByIdempotencyKey(sender.id, idemKey);
    if (!original) throw unavailable('the original message could not be read, retry shortly');
    if (original.toId !== recipientId || original.text !== request.text) throw idempotencyConflict();
    // The first request may still be writing the timeline entries; make sure they exist
    // (idempotent) so a 200 means the same as a 201: visible to sync. Never published here.
    await appendToTimelines(deps.timeline, original);
    return { status: 200, message: toChatMessage(original) };
  }

  return async (sender, request) => {
    // Memoized after the first success; before it, the unique indexes that guard idempotency
    // and sequence numbers might not exist yet, so nothing is written without them.
    await Promise.all([deps.messages.ensureIndexes(), deps.timeline.ensureIndexes()]);
    const recipient = await deps.directory.resolve(request.to);
    if (!recipient) throw notFound('user_not_found', 'no such user');

    const _id = new ObjectId();
    const fresh: NewMessageDoc = {
      _id,
      conversationId: directConversationId(sender.id, recipient.id),
      fromId: sender.id,
      from: sender.username,
      toId: recipient.id,
      to: recipient.username,
      text: request.text,
      createdAt: new Date(),
      ...(request.clientMsgId !== undefined ? { clientMsgId: request.clientMsgId } : {}),
      idemKey: idempotencyKey(_id, request.clientMsgId),
      published: false,
    };

    // Claimed before the insert, so this process's relay scan never races the send path.
    deps.relay.claim(_id);
    let seqs: TimelineSeqs;
    let doc: MessageDoc;
    try {
      const stored = await deps.messages.insert(fresh);
      if (stored === 'repeat') {
        deps.relay.release(_id);
        return await answerRepeat(sender, request, fresh.idemKey, recipient.id);
      }
      doc = stored;
      deps.metrics.messagesStored.inc();
      crash('after_insert');
      seqs = await appendToTimelines(deps.timeline, doc);
      crash('after_timeline');
    } catch (err) {
      // Not stored, or stored with the rest left to the relay's scan.
      deps.relay.release(_id);
      throw err;
    }
    deps.relay.dispatch(doc, seqs);
    return { status: 201, message: toChatMessage(doc) };
  };
}
