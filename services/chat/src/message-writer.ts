import type { ObjectId } from 'mongodb';
import type { ChatMetrics } from './chat-metrics.js';
import type { ConversationActivity } from './conversation-activity.js';
import type { MessageDoc, NewMessageDoc } from './message.js';
import { recipientsOf, toChatMessage } from './message.js';
import type { TimelineSeqs } from './message-event.js';
import type { MessagesRepository } from './messages-repo.js';
import { appendToTimelines, type Timeline } from './timeline.js';

export type CrashPoint = 'after_insert' | 'after_timeline';

export interface MessageWriterDeps {
  messages: MessagesRepository;
  timeline: Timeline;
  relay: {
    claim(id: ObjectId): void;
    release(id: ObjectId): void;
    dispatch(doc: MessageDoc, seqs: TimelineSeqs): void;
  };
  activity: Pick<ConversationActivity, 'note'>;
  metrics: ChatMetrics;
  /** Test hook (NODE_ENV=test only): die right there, as a crash would. */
  crashPoint?: CrashPoint | undefined;
}

/** Stores a message and gets it to its recipients; 'repeat' when its idempotency key was used. */
export type WriteMessage = (fresh: NewMessageDoc) => Promise<MessageDoc | 'repeat'>;

/**
 * The one way a message is written, a text or a system message, 1:1 or group. Without
 * transactions the order is what makes it safe: insert at the next position of its
 * conversation (publish state pending) → an entry in every recipient's timeline → publish →
 * mark published. Whatever a crash interrupts, the outbox relay completes from the stored
 * message, whose recipients are stored with it. It resolves once the message is stored and
 * visible to sync and history; publishing never blocks it.
 *
 * Fanout is on write: a group message gets one timeline entry per member, appended concurrently
 * and written by the timeline's insert batcher as a few insertMany commands (99 entries each),
 * not one insert per member. That keeps sync one gap-free stream per user, whatever mix of
 * conversations it holds, at a write cost that MAX_GROUP_MEMBERS bounds.
 */
export function createMessageWriter(deps: MessageWriterDeps): WriteMessage {
  const crash = (point: CrashPoint) => {
    if (deps.crashPoint === point) process.kill(process.pid, 'SIGKILL');
  };

  return async (fresh) => {
    // Memoized after the first success; before it, the unique indexes that guard idempotency
    // and sequence numbers might not exist yet, so nothing is written without them.
    await Promise.all([deps.messages.ensureIndexes(), deps.timeline.ensureIndexes()]);
    // Claimed before the insert, so this process's relay scan never races the send path.
    deps.relay.claim(fresh._id);
    let seqs: TimelineSeqs;
    let doc: MessageDoc;
    try {
      const stored = await deps.messages.insert(fresh);
      if (stored === 'repeat') {
        deps.relay.release(fresh._id);
        return 'repeat';
      }
      doc = stored;
      deps.metrics.messagesStored.inc();
      crash('after_insert');
      const type = fresh.recipientIds ? 'group' : 'direct';
      const endFanout = deps.metrics.fanoutDuration.startTimer({ type });
      seqs = await appendToTimelines(deps.timeline, doc);
      endFanout();
      deps.metrics.fanoutRecipients.observe({ type }, recipientsOf(doc).length);
      crash('after_timeline');
    } catch (err) {
      // Not stored, or stored with the rest left to the relay's scan.
      deps.relay.release(fresh._id);
      throw err;
    }
    deps.relay.dispatch(doc, seqs);
    deps.activity.note(doc, JSON.stringify(toChatMessage(doc)));
    return doc;
  };
}
