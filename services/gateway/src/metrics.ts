import { CLOSE_REASONS } from '@chat/common/contracts';
import { createMetrics, type ServiceMetrics } from '@chat/common/config';
import { Counter, Gauge, Histogram } from 'prom-client';
import { TRANSIENT_SYNC_FAILURES } from './chat-sync-client.js';
import { UPGRADE_REJECTION_REASONS } from './upgrade-rejections.js';

/**
 * The gateway's metric names are a contract: the Grafana dashboard reads them. Rename nothing.
 */

/**
 * `reason` of gateway_sockets_closed_total: the client went away, uWS cut a text frame that is
 * not valid UTF-8 (without a close frame: see ws-handler.ts), or the server closed it (close-codes.ts).
 */
export const SOCKET_CLOSE_LABELS = ['client', 'invalid_utf8', ...CLOSE_REASONS] as const;
export type SocketCloseLabel = (typeof SOCKET_CLOSE_LABELS)[number];
export interface GatewayMetrics extends ServiceMetrics {
  openSockets: Gauge;
  connectionsOpened: Counter;
  connectionsRejected: Counter<'reason'>;
  socketsClosed: Counter<'reason'>;
  framesIn: Counter;
  framesOut: Counter;
  eventsConsumed: Counter;
  eventsDelivered: Counter;
  eventsDropped: Counter<'reason'>;
  deliveryLatency: Histogram;
  userCacheHits: Counter;
  userCacheMisses: Counter;
  replays: Counter<'result'>;
  /** Replay reads tried again after Chat shed one, did not answer in time or was unreachable. */
  replayRetries: Counter<'reason'>;
  signalsReceived: Counter<'kind'>;
  signalsDropped: Counter<'reason'>;
  signalFramesSent: Counter<'type'>;
  typingDropped: Counter<'reason'>;
  presenceChanges: Counter<'status'>;
  presenceLookupFailures: Counter;
  /** Where `gateway_presence_online_users` is read from at scrape (an O(users) count: never on a timer). */
  countOnlineUsers(source: () => number): void;
  /** Hot-path counts kept in plain integers are added to `gateway_frames_out_total` at scrape. */
  addFramesOutSource(take: () => number): void;
  /**
   * Counts of the per-event path, kept in plain integers (an increment, no label lookup) and
   * added to their counters at scrape: `eventsConsumed`, `eventsDelivered` and
   * `eventsDropped{reason="no_local_socket"}`.
   */
  hot: { eventsConsumed: number; eventsDelivered: number; eventsNoLocalSocket: number };
}

export function createGatewayMetrics(): GatewayMetrics {
  const base = createMetrics('gateway');
  const registers = [base.registry];
  const framesOutSources: (() => number)[] = [];
  const hot = { eventsConsumed: 0, eventsDelivered: 0, eventsNoLocalSocket: 0 };
  let onlineUsers: (() => number) | undefined;
  /** Adds a hot count to its counter at scrape and resets it. */
  const drain = (counter: Counter<string>, key: keyof typeof hot, labels: Record<string, string> = {}) => {
    const n = hot[key];
    hot[key] = 0;
    if (n > 0) counter.inc(labels, n);
  };
  const metrics: GatewayMetrics = {
    hot,
    addFramesOutSource: (take) => framesOutSources.push(take),
    ...base,
    openSockets: new Gauge({ name: 'gateway_open_sockets', help: 'WebSocket connections currently open', registers }),
    connectionsOpened: new Counter({ name: 'gateway_connections_opened_total', help: 'WebSocket connections accepted', registers }),
    connectionsRejected: new Counter({
      name: 'gateway_connections_rejected_total',
      help: `Upgrade requests refused, by reason (${UPGRADE_REJECTION_REASONS.join(', ')})`,
      labelNames: ['reason'] as const,
      registers,
    }),
    socketsClosed: new Counter({
      name: 'gateway_sockets_closed_total',
      help: `Sockets closed, by reason (${SOCKET_CLOSE_LABELS.join(', ')})`,
      labelNames: ['reason'] as const,
      registers,
    }),
    framesIn: new Counter({ name: 'gateway_frames_in_total', help: 'Frames received from clients', registers }),
    framesOut: new Counter({
      name: 'gateway_frames_out_total',
      help: 'Frames sent to clients',
      registers,
      collect() {
        for (const take of framesOutSources) {
          const n = take();
          if (n > 0) this.inc(n);
        }
      },
    }),
    eventsConsumed: new Counter({
      name: 'gateway_events_consumed_total',
      help: 'Broker events taken from this pod\'s queue',
      registers,
      collect() {
        drain(this, 'eventsConsumed');
      },
    }),
    eventsDelivered: new Counter({
      name: 'gateway_events_delivered_total',
      help: 'Events handed to at least one local socket',
      registers,
      collect() {
        drain(this, 'eventsDelivered');
      },
    }),
    eventsDropped: new Counter({
      name: 'gateway_events_dropped_total',
      help: 'Events not delivered, by reason (no_local_socket, malformed, unresolved)',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        drain(this, 'eventsNoLocalSocket', { reason: 'no_local_socket' });
      },
    }),
    deliveryLatency: new Histogram({
      name: 'gateway_delivery_latency_seconds',
      help: 'Time from the message\'s createdAt to its live delivery to local sockets',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    userCacheHits: new Counter({ name: 'gateway_user_cache_hits_total', help: 'Username resolutions answered from the cache', registers }),
    userCacheMisses: new Counter({ name: 'gateway_user_cache_misses_total', help: 'Username resolutions that asked Auth', registers }),
    replays: new Counter({
      name: 'gateway_replays_total',
      help: 'Replays from Chat sync of what a socket missed (on resume, or to fill a hole), by result (synced, resync_required, invalid_cursor, failed)',
      labelNames: ['result'] as const,
      registers,
    }),
    replayRetries: new Counter({
      name: 'gateway_replay_retries_total',
      help: 'Replay reads from Chat sync tried again after a wait, by reason (shed: Chat answered 503/502/504/429; timeout; unreachable)',
      labelNames: ['reason'] as const,
      registers,
    }),
    signalsReceived: new Counter({
      name: 'gateway_signals_received_total',
      help: 'Signals taken from chat.ephemeral, by kind (typing, read, online, offline, beat, bye)',
      labelNames: ['kind'] as const,
      registers,
    }),
    signalsDropped: new Counter({
      name: 'gateway_signals_dropped_total',
      help: 'Signals lost on chat.ephemeral here, by reason (unconnected, full, malformed)',
      labelNames: ['reason'] as const,
      registers,
    }),
    signalFramesSent: new Counter({
      name: 'gateway_signal_frames_sent_total',
      help: 'typing, read and presence frames sent to local sockets, by type',
      labelNames: ['type'] as const,
      registers,
    }),
    typingDropped: new Counter({
      name: 'gateway_typing_dropped_total',
      help: 'typing frames or signals not passed on, by reason (throttled, not_a_member, large_group, unavailable)',
      labelNames: ['reason'] as const,
      registers,
    }),
    presenceChanges: new Counter({
      name: 'gateway_presence_changes_total',
      help: 'Users whose cluster-wide presence changed, as this pod\'s table saw it, by status',
      labelNames: ['status'] as const,
      registers,
    }),
    presenceLookupFailures: new Counter({
      name: 'gateway_presence_lookup_failures_total',
      help: 'Presence changes not delivered here because Chat could not name the contacts',
      registers,
    }),
    countOnlineUsers: (source) => {
      onlineUsers = source;
    },
  };
  new Gauge({
    name: 'gateway_presence_online_users',
    help: 'Users online in the whole cluster, as this pod\'s presence table sees it',
    registers,
    collect() {
      if (onlineUsers) this.set(onlineUsers());
    },
  });
  // Every label value of the signal, rejection and close series exported from the start: the
  // dashboard's rates then have a series to read, and a first refusal or invalid_utf8 close counts.
  for (const type of ['typing', 'read', 'presence']) metrics.signalFramesSent.inc({ type }, 0);
  for (const reason of ['throttled', 'not_a_member', 'large_group', 'unavailable']) metrics.typingDropped.inc({ reason }, 0);
  for (const status of ['online', 'offline']) metrics.presenceChanges.inc({ status }, 0);
  for (const reason of ['unconnected', 'full', 'malformed']) metrics.signalsDropped.inc({ reason }, 0);
  for (const reason of UPGRADE_REJECTION_REASONS) metrics.connectionsRejected.inc({ reason }, 0);
  for (const reason of SOCKET_CLOSE_LABELS) metrics.socketsClosed.inc({ reason }, 0);
  for (const reason of TRANSIENT_SYNC_FAILURES) metrics.replayRetries.inc({ reason }, 0);
  return metrics;
}
