import { parseConversationId, peerIn, type TypingSignal } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import type { Audience } from './audience-client.js';
import { errorFrame, type ParsedClientFrame } from './frames.js';
import { KeyedThrottle } from './keyed-throttle.js';
import { TYPING_INTERVAL_MS } from './live-signals.js';
import type { GatewayMetrics } from './metrics.js';
import type { SocketSender } from './socket-sender.js';
import type { GatewaySocket } from './socket-state.js';

export interface TypingDeps {
  audience: Audience;
  sender: SocketSender;
  publish: (signal: TypingSignal) => void;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Groups larger than this get no typing (TYPING_MAX_MEMBERS). */
  maxMembers: number;
  now?: () => number;
}

/**
 * The client's `typing` frame. Never on the durable path: no database, no outbox, no confirm;
 * one signal on `chat.ephemeral` for the conversation's other members.
 *
 * A typing frame costs the sender's budget of frames per second like any frame (a flood still
 * closes the socket, ws-handler.ts), but never more: frames beyond one per (user, conversation)
 * per 3 s are dropped here silently, before any lookup. Who may type is the membership: a 1:1
 * conversation's id names its two users; a group's members are asked of Chat (cached, see
 * audience-client.ts). A non-member gets an error frame and the socket stays open.
 */
export class TypingFrames {
  private readonly throttle: KeyedThrottle;

  constructor(private readonly deps: TypingDeps) {
    this.throttle = new KeyedThrottle(TYPING_INTERVAL_MS, deps.now);
  }

  /** Handles `typing` frames (true), leaves every other frame to the next handler (false). */
  onFrame = (ws: GatewaySocket, parsed: ParsedClientFrame): boolean => {
    if (!parsed.ok || parsed.frame.type !== 'typing') return false;
    const { user } = ws.getUserData();
    const { conversationId } = parsed.frame;
    if (!this.throttle.pass(`${user.id}\u0000${conversationId}`)) {
      this.deps.metrics.typingDropped.inc({ reason: 'throttled' });
      return true;
    }
    const ref = parseConversationId(conversationId);
    if (ref?.type === 'direct') {
      const peer = peerIn(ref, user.id);
      if (peer === undefined) return this.notAMember(ws, conversationId);
      if (peer !== user.id) this.publish(conversationId, user, [peer]);
      return true;
    }
    if (ref?.type !== 'group') return this.notAMember(ws, conversationId);
    this.deps.audience.members(conversationId).then(
      (members) => {
        if (!members?.includes(user.id)) return void this.notAMember(ws, conversationId);
        if (members.length > this.deps.maxMembers) return this.deps.metrics.typingDropped.inc({ reason: 'large_group' });
        this.publish(conversationId, user, members.filter((id) => id !== user.id));
      },
      (err: unknown) => {
        // Chat is unreachable: a typing indicator is not worth an error; it is simply not shown.
        this.deps.metrics.typingDropped.inc({ reason: 'unavailable' });
        this.deps.logger.warn({ err, conversationId }, 'cannot look up group members; typing dropped');
      },
    );
    return true;
  };

  private publish(conversationId: string, user: { id: string; username: string }, to: string[]): void {
    this.deps.publish({ v: 1, kind: 'typing', conversationId, user: { id: user.id, username: user.username }, to });
  }

  private notAMember(ws: GatewaySocket, conversationId: string): true {
    this.deps.metrics.typingDropped.inc({ reason: 'not_a_member' });
    this.deps.sender.send(ws, errorFrame('not_a_member', `you are not a member of conversation ${JSON.stringify(conversationId.slice(0, 100))}`));
    return true;
  }
}
