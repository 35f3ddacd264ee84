import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Chat's own series (names are a contract: the Grafana dashboard reads them). */
export interface ChatMetrics {
  messagesStored: Counter;
  eventsPublished: Counter;
  outboxBacklog: Gauge;
  /** Timelines one stored message was appended to, by conversation type. */
  fanoutRecipients: Histogram<'type'>;
  /** Time to append one stored message to all its recipients' timelines, by conversation type. */
  fanoutDuration: Histogram<'type'>;
  /** `POST /conversations/:id/read` answers, by whether the mark moved. */
  readMarks: Counter<'result'>;
  /** Presence changes this pod's table saw, by status. */
  presenceChanges: Counter<'status'>;
  /** Database write commands that stored last-seen times. */
  presenceWrites: Counter;
  /** Where `chat_presence_online_users` is read from at scrape (an O(users) count: never on a timer). */
  countOnlineUsers(source: () => number): void;
  signalsDropped: Counter<'reason'>;
  /** 1 while a database outage is known and database work is refused at once (mongo-outage.ts), else 0. */
  databaseUnavailable: Gauge;
  /** Database outages this process detected (each one started refusing database work at once). */
  databaseOutages: Counter;
  /**
   * Times background work waited past its normal pace: after a failure or a slow answer of the
   * database (backoff), or because requests were waiting for an admission slot (pressure).
   */
  backgroundDelays: Counter<'task' | 'reason'>;
}

/** The background tasks that back off and yield (labels of chat_background_delays_total). */
export type BackgroundTask = 'outbox_scan' | 'outbox_mark' | 'last_seen';
/** Why one waited: its last try failed, its last try was slow, or requests were waiting. */
export type BackgroundDelayReason = 'failed' | 'slow' | 'pressure';

export function createChatMetrics(registry: Registry): ChatMetrics {
  let onlineUsers: (() => number) | undefined;
  new Gauge({
    name: 'chat_presence_online_users',
    help: 'Users online in the whole cluster, as this pod\'s presence table sees it',
    registers: [registry],
    collect() {
      if (onlineUsers) this.set(onlineUsers());
    },
  });
  const metrics: ChatMetrics = {
    messagesStored: new Counter({ name: 'chat_messages_stored_total', help: 'Messages stored (idempotent repeats not counted)', registers: [registry] }),
    eventsPublished: new Counter({ name: 'chat_events_published_total', help: 'new_message events confirmed by the broker', registers: [registry] }),
    outboxBacklog: new Gauge({ name: 'chat_outbox_backlog', help: 'Stored messages whose event is not confirmed yet (refreshed by the relay)', registers: [registry] }),
    fanoutRecipients: new Histogram({
      name: 'chat_fanout_recipients',
      help: 'Timelines a stored message was appended to (type: direct or group)',
      labelNames: ['type'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500, 1000],
      registers: [registry],
    }),
    fanoutDuration: new Histogram({
      name: 'chat_fanout_duration_seconds',
      help: "Time to append a stored message to every recipient's timeline (type: direct or group)",
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    readMarks: new Counter({
      name: 'chat_read_marks_total',
      help: 'Reads marked through POST /conversations/:id/read, by result (moved: the mark went forward; unchanged: it was at or past the message)',
      labelNames: ['result'],
      registers: [registry],
    }),
    presenceChanges: new Counter({
      name: 'chat_presence_changes_total',
      help: 'Users whose cluster-wide presence changed, as this pod\'s table saw it, by status (online, offline)',
      labelNames: ['status'],
      registers: [registry],
    }),
    presenceWrites: new Counter({ name: 'chat_presence_writes_total', help: 'Database write commands that stored last-seen times (one batch per interval, never one per connect)', registers: [registry] }),
    countOnlineUsers: (source) => {
      onlineUsers = source;
    },
    signalsDropped: new Counter({
      name: 'chat_signals_dropped_total',
      help: 'Signals on chat.ephemeral not published or not understood here, by reason (unconnected, full, malformed)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    databaseUnavailable: new Gauge({
      name: 'chat_database_unavailable',
      help: 'Whether a database outage is known (1: requests that need the database get 503 at once, until a ping answers; 0: the database answers)',
      registers: [registry],
    }),
    databaseOutages: new Counter({ name: 'chat_database_outages_total', help: 'Database outages detected (a request failed for want of a server; each ends when a ping answers)', registers: [registry] }),
    backgroundDelays: new Counter({
      name: 'chat_background_delays_total',
      help: 'Times background work (task: outbox_scan, outbox_mark, last_seen) waited past its normal pace, by reason (failed, slow: the database; pressure: requests were waiting for an admission slot)',
      labelNames: ['task', 'reason'],
      registers: [registry],
    }),
  };
  metrics.databaseUnavailable.set(0);
  // Every label value exported from the start: the dashboard's rates then have a series to read.
  for (const result of ['moved', 'unchanged']) metrics.readMarks.inc({ result }, 0);
  for (const status of ['online', 'offline']) metrics.presenceChanges.inc({ status }, 0);
  for (const reason of ['unconnected', 'full', 'malformed']) metrics.signalsDropped.inc({ reason }, 0);
  // The last-seen writes back off but do not yield to requests (one small batch a second).
  for (const task of ['outbox_scan', 'outbox_mark', 'last_seen'] satisfies BackgroundTask[])
    for (const reason of ['failed', 'slow', 'pressure'] satisfies BackgroundDelayReason[])
      if (task !== 'last_seen' || reason !== 'pressure') metrics.backgroundDelays.inc({ task, reason }, 0);
  return metrics;
}
