import type { PresenceSignal } from '@chat/common/contracts';
import type { SocketRegistry } from './socket-registry.js';

/**
 * Tells the cluster which users this pod holds a socket of (see presence-table.ts in
 * @chat/common for how every process turns that into online/offline).
 *
 * Changes are coalesced per user: opening or closing a socket only marks its user, and every
 * `flushMs` each marked user's state is compared with what was last published, so a user whose
 * sockets closed and reopened within one flush publishes nothing, and one whose second device
 * connected publishes nothing either. Every `beatMs` a beat lists all users held here: it proves
 * this pod alive, and repairs what a lost signal left wrong elsewhere.
 *
 * Cost: one Set entry per changed user per flush, one Map entry per user held; a beat is
 * O(users here) and about 40 bytes per user. No database is involved anywhere.
 */
export class PresenceReporter {
  private readonly marked = new Set<string>();
  /** Users published as held here, by id, with their username. */
  private readonly published = new Map<string, string>();
  /** The usernames of marked users. */
  private readonly names = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private beatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: {
      pod: string;
      registry: SocketRegistry;
      publish: (signal: PresenceSignal) => void;
      flushMs: number;
      beatMs: number;
      now?: () => number;
    },
  ) {}

  start(): void {
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushMs);
    this.flushTimer.unref();
    this.beatTimer = setInterval(() => this.beat(), this.opts.beatMs);
    this.beatTimer.unref();
  }

  /** A socket of this user opened or closed. */
  mark(userId: string, username: string): void {
    this.marked.add(userId);
    this.names.set(userId, username);
  }

  flush(): void {
    const now = (this.opts.now ?? Date.now)();
    for (const id of this.marked) {
      const held = this.opts.registry.socketsOf(id) !== undefined;
      const username = this.names.get(id)!;
      this.names.delete(id);
      if (held === this.published.has(id)) continue;
      if (held) this.published.set(id, username);
      else this.published.delete(id);
      this.opts.publish({ v: 1, kind: held ? 'online' : 'offline', pod: this.opts.pod, user: { id, username }, at: now });
    }
    this.marked.clear();
  }

  /** Every user held here; also sent at once after the bus (re)connects, since signals were lost meanwhile. */
  beat(): void {
    this.flush();
    this.opts.publish({ v: 1, kind: 'beat', pod: this.opts.pod, at: (this.opts.now ?? Date.now)(), users: [...this.published] });
  }

  /** The drain: this pod's users are let go (each gets the grace to reconnect elsewhere). */
  stop(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.beatTimer);
    this.flush();
    this.opts.publish({ v: 1, kind: 'bye', pod: this.opts.pod, at: (this.opts.now ?? Date.now)() });
  }
}
