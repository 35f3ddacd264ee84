import { decodeCursor, type NewMessageEvent } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import type { UserDirectory } from '@chat/common/user-directory';
import { messageFrame, messageFrameHead } from './frames.js';
import type { GatewayMetrics } from './metrics.js';
import type { SocketRegistry } from './socket-registry.js';
import type { GatewaySocket } from './socket-state.js';

/** One live `new_message` frame for one user's sockets. */
export interface LiveFrame {
  messageId: string;
  /** This user's cursor ending at the message, when the event carried a valid one. */
  cursor: string | undefined;
  /** The cursor's position in this user's timeline. */
  seq: number | undefined;
  frame: string;
}

/** Where a live frame goes for one socket: the socket's ordered stream (socket-streams.ts). */
export type LiveFrameSink = (ws: GatewaySocket, frame: LiveFrame) => void;

export interface DeliveryDeps {
  registry: SocketRegistry;
  directory: UserDirectory;
  sink: LiveFrameSink;
  metrics: GatewayMetrics;
  logger: Logger;
}

/**
 * Turns broker events into frames on local sockets. An event names its recipients: Chat keys its
 * cursors by their user ids (both sides of a 1:1 message, every member of a group when the
 * message was stored), so routing needs no lookup and no membership cache. Only an event
 * without cursors (published before they existed) has its 1:1 participants resolved through
 * the cached user directory.
 *
 * Frames leave in the order events arrived. The usual event (with cursors) is delivered right
 * away, synchronously, and `handle` returns undefined: no promise per event, which the profile
 * of the hot path showed. An event that needs a lookup returns a promise, and every event after
 * it waits behind it (chained) until it is delivered, so order holds across the two paths. The
 * broker consumer acks an event once `handle` returned undefined or its promise settled.
 */
export class Delivery {
  private tail: Promise<void> = Promise.resolve();
  /** Events handed in whose delivery waits on a lookup (theirs, or one before them). */
  private waiting = 0;

  constructor(private readonly deps: DeliveryDeps) {}

  /** `recipients`: the event's cursor keys, when the caller has them already. */
  handle(event: NewMessageEvent, recipients = Object.keys(event.cursors)): Promise<void> | undefined {
    if (this.waiting === 0 && recipients.length > 0) {
      this.deliver(event, recipients);
      return undefined;
    }
    // Every pod sees every event, and most are for nobody connected here. When none of the
    // event's recipients has a socket here it is dropped without asking Auth anything.
    const resolving = this.nobodyHere(recipients) ? Promise.resolve<string[]>([]) : this.participants(event, recipients);
    resolving.catch(() => undefined); // handled below, in order; this only silences the early rejection
    this.waiting++;
    const done = this.tail
      .then(() => resolving)
      .then(
        (userIds) => this.deliver(event, userIds),
        (err: unknown) => {
          this.deps.metrics.eventsDropped.inc({ reason: 'unresolved' });
          this.deps.logger.warn({ err, messageId: event.message.id }, 'cannot resolve the participants of an event; dropped');
        },
      )
      .finally(() => {
        this.waiting--;
      });
    this.tail = done;
    return done;
  }

  /** Settles when every event handed in so far has been delivered. */
  idle(): Promise<void> {
    return this.tail;
  }

  private nobodyHere(recipients: string[]): boolean {
    const { registry } = this.deps;
    if (registry.size === 0) return true;
    return recipients.length > 0 && recipients.every((id) => registry.socketsOf(id) === undefined);
  }

  private async participants(event: NewMessageEvent, recipients: string[]): Promise<string[]> {
    if (recipients.length > 0) return recipients;
    const { from, to } = event.message;
    if (to === undefined) return [];
    // When Auth is unreachable this rejects, and the event is dropped here; catch-up recovers it.
    const [sender, recipient] = await Promise.all([this.deps.directory.resolve(from), this.deps.directory.resolve(to)]);
    const ids = new Set<string>();
    if (sender) ids.add(sender.id);
    if (recipient) ids.add(recipient.id);
    return [...ids];
  }

  private deliver(event: NewMessageEvent, userIds: string[]): void {
    const { registry, sink, metrics } = this.deps;
    let head: string | undefined;
    let delivered = false;
    for (const userId of userIds) {
      const sockets = registry.socketsOf(userId);
      if (!sockets || sockets.size === 0) continue;
      head ??= messageFrameHead(event.message);
      const raw = event.cursors[userId];
      const decoded = raw === undefined ? undefined : decodeCursor(raw);
      // A cursor naming another user would be a Chat bug; never hand it to this user.
      const valid = decoded !== undefined && decoded.userId === userId;
      const cursor = valid ? raw : undefined;
      const frame: LiveFrame = { messageId: event.message.id, cursor, seq: valid ? decoded.seq : undefined, frame: messageFrame(head, cursor) };
      // Closing a slow socket removes it from this set mid-loop; Set iteration tolerates that.
      for (const ws of sockets) sink(ws, frame);
      delivered = true;
    }
    // Counted in plain integers, read at scrape (metrics.ts): this runs for every event.
    if (!delivered) {
      metrics.hot.eventsNoLocalSocket++;
      return;
    }
    metrics.hot.eventsDelivered++;
    const createdAt = Date.parse(event.message.createdAt);
    if (Number.isFinite(createdAt)) metrics.deliveryLatency.observe(Math.max(0, Date.now() - createdAt) / 1000);
  }
}
