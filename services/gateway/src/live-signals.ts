import type { Logger } from '@chat/common/config';
import type { ReadSignal, Signal, TypingSignal } from '@chat/common/contracts';
import { PresenceTable, type PresenceChange } from '@chat/common/presence';
import type { Audience } from './audience-client.js';
import { presenceFrame, readFrame, typingFrame } from './frames.js';
import { KeyedThrottle } from './keyed-throttle.js';
import type { GatewayMetrics } from './metrics.js';
import type { SocketRegistry } from './socket-registry.js';
import type { SocketSender } from './socket-sender.js';

/** The protocol's typing limit: one `typing` frame per (typer, conversation) per 3 s. */
export const TYPING_INTERVAL_MS = 3_000;

export interface LiveSignalsDeps {
  registry: SocketRegistry;
  sender: SocketSender;
  audience: Audience;
  metrics: GatewayMetrics;
  logger: Logger;
  graceMs: number;
  timeoutMs: number;
  /** About one beat interval: see PresenceTable's warm-up. */
  warmupMs: number;
  now?: () => number;
}

/**
 * Turns signals from `chat.ephemeral` into frames on this pod's sockets. They bypass the
 * per-socket message streams (socket-streams.ts): they carry no cursor, are never replayed, and
 * their order relative to messages means nothing.
 *
 * - typing: to the local sockets of the signal's `to`, at most once per (typer, conversation)
 *   per {@link TYPING_INTERVAL_MS} here. The sending pod throttles too, but a user typing on two
 *   devices on two pods has two senders; every pod sees every signal, so the limit holds at
 *   every receiver whatever the senders did.
 * - read: to the local sockets of `to` (the reader's own included: their other devices).
 * - presence: every pod runs the same table (presence-table.ts); a change goes to the local
 *   sockets of the user's contacts, asked of Chat only when this pod has sockets at all.
 */
export class LiveSignals {
  readonly table: PresenceTable;
  private readonly typing: KeyedThrottle;

  constructor(private readonly deps: LiveSignalsDeps) {
    this.typing = new KeyedThrottle(TYPING_INTERVAL_MS, deps.now);
    this.table = new PresenceTable({
      graceMs: deps.graceMs,
      timeoutMs: deps.timeoutMs,
      warmupMs: deps.warmupMs,
      now: deps.now,
      onChange: (change) => this.presenceChanged(change),
    });
  }

  handle = (signal: Signal): void => {
    this.deps.metrics.signalsReceived.inc({ kind: signal.kind });
    switch (signal.kind) {
      case 'typing':
        return this.typed(signal);
      case 'read':
        return this.read(signal);
      default:
        return this.table.apply(signal);
    }
  };

  private typed(signal: TypingSignal): void {
    if (!this.anyHere(signal.to)) return;
    if (!this.typing.pass(`${signal.user.id}\u0000${signal.conversationId}`)) {
      this.deps.metrics.typingDropped.inc({ reason: 'throttled' });
      return;
    }
    this.sendTo(signal.to, typingFrame(signal.conversationId, signal.user), 'typing', signal.user.id);
  }

  private read(signal: ReadSignal): void {
    if (!this.anyHere(signal.to)) return;
    this.sendTo(signal.to, readFrame(signal), 'read');
  }

  private presenceChanged(change: PresenceChange): void {
    this.deps.metrics.presenceChanges.inc({ status: change.status });
    if (this.deps.registry.size === 0) return;
    const frame = presenceFrame(change.user, change.status, change.lastSeen);
    this.deps.audience.contacts(change.user.id).then(
      (contacts) => this.sendTo(contacts, frame, 'presence'),
      (err: unknown) => {
        this.deps.metrics.presenceLookupFailures.inc();
        this.deps.logger.warn({ err, userId: change.user.id }, 'cannot look up contacts; presence change not delivered here');
      },
    );
  }

  private anyHere(userIds: readonly string[]): boolean {
    if (this.deps.registry.size === 0) return false;
    return userIds.some((id) => this.deps.registry.socketsOf(id) !== undefined);
  }

  private sendTo(userIds: Iterable<string>, frame: string, type: 'typing' | 'read' | 'presence', except?: string): void {
    const { registry, sender, metrics } = this.deps;
    let sent = 0;
    for (const id of userIds) {
      if (id === except) continue;
      const sockets = registry.socketsOf(id);
      if (!sockets) continue;
      for (const ws of sockets) {
        sender.send(ws, frame);
        sent++;
      }
    }
    if (sent > 0) metrics.signalFramesSent.inc({ type }, sent);
  }
}
