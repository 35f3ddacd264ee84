/**
 * The metric names the services export (base names, as in `# TYPE` lines). Stable contract:
 * every series also carries `service` = auth|chat|gateway as a default label.
 */
export const HTTP_METRICS = ['http_request_duration_seconds'] as const;

/** A few of prom-client's default metrics the dashboard uses (all services export them). */
export const DEFAULT_PROCESS_METRICS = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds'] as const;

/** Admission control's metrics (issue 17), the same family in Auth and Chat under each one's prefix. */
function admissionMetrics<P extends 'auth' | 'chat'>(prefix: P) {
  return [`${prefix}_admission_in_flight`, `${prefix}_admission_limit`, `${prefix}_admission_queued`, `${prefix}_admission_shed_total`, `${prefix}_admission_wait_seconds`] as const;
}

export const SERVICE_METRICS = {
  auth: ['auth_login_attempts_total', 'auth_registrations_total', 'auth_limit_refusals_total', ...admissionMetrics('auth')],
  chat: [
    'chat_messages_stored_total', 'chat_events_published_total', 'chat_outbox_backlog', 'chat_db_round_trips_per_request', 'chat_fanout_recipients', 'chat_fanout_duration_seconds',
    'chat_read_marks_total', 'chat_presence_changes_total', 'chat_presence_writes_total', 'chat_presence_online_users', 'chat_signals_dropped_total',
    'chat_database_unavailable', 'chat_database_outages_total',
    ...admissionMetrics('chat'),
    'chat_background_delays_total',
  ],
  gateway: [
    'gateway_open_sockets',
    'gateway_connections_opened_total',
    'gateway_connections_rejected_total',
    'gateway_sockets_closed_total',
    'gateway_frames_in_total',
    'gateway_frames_out_total',
    'gateway_events_consumed_total',
    'gateway_events_delivered_total',
    'gateway_events_dropped_total',
    'gateway_delivery_latency_seconds',
    'gateway_user_cache_hits_total',
    'gateway_user_cache_misses_total',
    'gateway_signal_frames_sent_total',
    'gateway_typing_dropped_total',
    'gateway_presence_online_users',
    'gateway_signals_dropped_total',
    'gateway_presence_lookup_failures_total',
    'gateway_replays_total',
    'gateway_replay_retries_total',
  ],
} as const;

/** Histograms of the contract (exposed as <name>_bucket, <name>_sum and <name>_count). */
export const HISTOGRAMS = [
  'http_request_duration_seconds', 'gateway_delivery_latency_seconds', 'chat_db_round_trips_per_request', 'chat_fanout_recipients', 'chat_fanout_duration_seconds',
  'chat_admission_wait_seconds', 'auth_admission_wait_seconds',
] as const;

export function contractMetricNames(): string[] {
  return [...HTTP_METRICS, ...DEFAULT_PROCESS_METRICS, ...Object.values(SERVICE_METRICS).flat()].sort();
}
