import { Backoff, type BackoffPolicy, type Logger } from '@chat/common/config';
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
 *
 * A write that fails (or takes longer than the flush interval) keeps its times for later and
 * makes the next one wait longer, 1 s doubling up to 30 s with jitter (backoff.ts): last-seen
 * times are the least urgent writes Chat has, and must not add to a struggling database's load.
 */
const WRITE_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000, jitter: 0.5 };

export class Presence {
  readonly table: PresenceTable;
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private flushing: Promise<void> | undefined;
  private readonly backoff: Backoff;
  /** No periodic write before this (epoch ms): the last one failed or was slow. */
  private nextWriteAt = 0;

  constructor(
    private readonly opts: {
      lastSeen: LastSeenRepository;
      metrics: ChatMetrics;
      logger: Logger;
      graceMs: number;
      timeoutMs: number;
      warmupMs: number;
      flushMs?: number;
      /** For tests: the jitter's draw. */
      random?: () => number;
    },
  ) {
    this.backoff = new Backoff(WRITE_BACKOFF, opts.random);
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
      if (++this.ticks % flushEvery === 0 && Date.now() >= this.nextWriteAt) void this.flush();
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
    const startedAt = Date.now();
    try {
      this.opts.metrics.presenceWrites.inc(await this.opts.lastSeen.record(batch));
      if (Date.now() - startedAt > (this.opts.flushMs ?? 1_000)) this.backOff('slow');
      else this.backoff.succeeded();
    } catch (err) {
      // Kept for the next flush (newer times win), so an outage delays them and loses none.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      const waitMs = this.backOff('failed');
      this.opts.logger.warn({ err, users: batch.size, retryInMs: waitMs }, 'could not store last-seen times; retrying with backoff');
    }
  }

  private backOff(reason: 'failed' | 'slow'): number {
    const waitMs = this.backoff.failed();
    this.nextWriteAt = Date.now() + waitMs;
    this.opts.metrics.backgroundDelays.inc({ task: 'last_seen', reason });
    return waitMs;
  }
}
