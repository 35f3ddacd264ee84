import type { Logger } from '@chat/common/config';
import type { Signal } from '@chat/common/contracts';
import { PresenceTable, type PresenceStatus } from '@chat/common/presence';
import type { ChatMetrics } from './chat-metrics.js';
import type { LastSeenRepository } from './last-seen-repo.js';

/**
 * Chat's view of presence, for `GET /presence`: the same table every gateway runs
 * (presence-table.ts), fed by the gateways' presence signals, plus the stored last-seen times.
 *
 * State lives in memory on every pod, rebuilt from the signals; nothing is written on connect.
 * The only write is a user's last-seen time when they go offline (after the grace), batched:
 * every `flushMs`, everything that went offline is stored by {@link LastSeenRepository.record}
 * in a few commands. So a reconnect storm of any size writes nothing (the users reconnect
 * within the grace), and a dead pod's thousands of users cost one batch. Every Chat pod writes
 * the same times (they read the same signals): a repeat changes nothing.
 *
 * A pod that just started answers from a table that is complete one beat interval later.
 */
export class Presence {
  readonly table: PresenceTable;
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      lastSeen: LastSeenRepository;
      metrics: ChatMetrics;
      logger: Logger;
      graceMs: number;
      timeoutMs: number;
      warmupMs: number;
      flushMs?: number;
    },
  ) {
    this.table = new PresenceTable({
      graceMs: opts.graceMs,
      timeoutMs: opts.timeoutMs,
      warmupMs: opts.warmupMs,
      onChange: (change) => {
        opts.metrics.presenceChanges.inc({ status: change.status });
        if (change.status === 'offline' && change.lastSeen !== undefined) this.pending.set(change.user.id, change.lastSeen);
      },
    });
    opts.metrics.countOnlineUsers(() => this.table.onlineCount);
  }

  handle = (signal: Signal): void => {
    if (signal.kind === 'online' || signal.kind === 'offline' || signal.kind === 'beat' || signal.kind === 'bye') this.table.apply(signal);
  };

  start(): void {
    const flushEvery = Math.max(1, Math.round((this.opts.flushMs ?? 1_000) / 250));
    this.timer = setInterval(() => {
      this.table.tick();
      if (++this.ticks % flushEvery === 0) void this.flush();
    }, 250);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  /** Status and last-seen time of users by id: the table first, the stored times for the rest. */
  async statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>> {
    const out = new Map<string, PresenceStatus>();
    const unknown: string[] = [];
    for (const id of userIds) {
      const status = this.table.status(id);
      if (status?.status === 'online' || status?.lastSeen !== undefined) out.set(id, status);
      else unknown.push(id);
    }
    const stored = unknown.length > 0 ? await this.opts.lastSeen.find(unknown) : new Map<string, number>();
    for (const id of unknown) {
      const lastSeen = stored.get(id) ?? this.pending.get(id);
      out.set(id, lastSeen === undefined ? { status: 'offline' } : { status: 'offline', lastSeen });
    }
    return out;
  }

  private flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      this.opts.metrics.presenceWrites.inc(await this.opts.lastSeen.record(batch));
    } catch (err) {
      // Kept for the next flush (newer times win), so an outage delays them and loses none.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.opts.logger.warn({ err, users: batch.size }, 'could not store last-seen times; retrying');
    }
  }
}
