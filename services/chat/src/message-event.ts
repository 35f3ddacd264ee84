import { encodeCursor, type NewMessageEvent } from '@chat/common/contracts';
import { toChatMessage, type MessageDoc } from './message.js';

/** Each participant's position of the message in their timeline. */
export type TimelineSeqs = Record<string, number>;

/** The event for a stored message: the API shape plus each participant's sync cursor ending at it. */
export function buildNewMessageEvent(doc: MessageDoc, seqs: TimelineSeqs): NewMessageEvent {
  const cursors: Record<string, string> = {};
  for (const [userId, seq] of Object.entries(seqs)) cursors[userId] = encodeCursor({ userId, seq });
  return { type: 'new_message', version: 1, message: toChatMessage(doc), cursors };
}
