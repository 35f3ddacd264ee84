/** Messages between the harness and its load-generator children (JSON over the IPC channel). */
import type { HistogramSnapshot } from '../stats.js';
import type { RatePhase } from './schedule.js';

export interface ConnectCommand {
  op: 'connect';
  /** ws://127.0.0.1:port/ of the gateway under test. */
  url: string;
  tokens: string[];
  /** Source addresses to spread sockets over (127.0.0.x): about 28k ephemeral ports each. */
  localAddresses: string[];
  /** Handshakes in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

export interface InjectCommand {
  op: 'inject';
  amqpUrl: string;
  exchange: string;
  /** Events per second, open loop. */
  rate: number;
  durationMs: number;
  /** Stop after this many events (durationMs is then only an upper bound). */
  count?: number;
  /** [from, to] username pairs, used round-robin. */
  pairs: Array<[string, string]>;
  /**
   * Username → user id. Given, each event carries what Chat publishes: a cursor for each side,
   * keyed by user id, whose seq counts up by one per event for that user in this injector, so
   * a gateway delivers it on its usual path (no lookup; gap-free streams). Without it the event
   * has no cursors, the path of events published before cursors existed (a directory lookup).
   */
  ids?: Record<string, string>;
}

export interface SendCommand {
  op: 'send';
  chatUrl: string;
  rate: number;
  durationMs: number;
  /** Sender token and recipient: a username (1:1) or a conversation id (a group), used round-robin. */
  pairs: SendTarget[];
  /** Requests in flight at most; beyond it the sender counts a miss instead of queueing (open loop). */
  maxInFlight: number;
  /** Marks this run's texts so receivers can match frames to sends. */
  tag: string;
  /** A schedule of phases back to back instead of `rate` for `durationMs` (the overload scenario's 3× then ½×). */
  phases?: RatePhase[];
  /** The client's timeout per request (default 10 s); a request not answered by then counts as `timeout`. */
  timeoutMs?: number;
  /** Return every request's SendRecord (the overload scenario judges them second by second). */
  records?: boolean;
  /**
   * A pool of this many kept-alive connections, opened before the schedule starts and used in
   * turn, as an ingress reaches a pod; requests beyond it wait for one (counted in their latency).
   * Unset: a new connection whenever every open one is busy (up to maxInFlight).
   */
  connections?: number;
}

/**
 * One request of a send run: when it was sent (ms from the run's start), how long until its answer
 * or failure (ms), and the HTTP status; 0 when there was no answer (a network error or the client's
 * timeout, named in `errors`); -1 for a send the client skipped at its in-flight cap (never sent).
 */
export type SendRecord = [startMs: number, latencyMs: number, status: number];

/** Whom one send goes to: `to` for 1:1, `conversationId` for a group (POST /chat/send takes exactly one). */
export type SendTarget = { token: string; to: string } | { token: string; conversationId: string };

/**
 * Scenario 10's "layer on" traffic in one receiver child, on a schedule shared by every child
 * (times from `epochMs`, one machine clock): each typer sends `{"type":"typing"}` into its 1:1
 * conversation once every `typingEveryMs`, spread evenly; and one victim user every
 * `reconnectEveryMs` has every socket this child holds of them closed (1000) and reopened after
 * `reconnectDelayMs` with the same token, in place (so the socket keeps its index).
 */
export interface LayerCommand {
  op: 'layer';
  on: true;
  epochMs: number;
  /** [user id, conversation id]: users this child types for, from the first open socket it holds of them. */
  typers: Array<[string, string]>;
  typingEveryMs: number;
  /** User ids, in the order they reconnect (the same list in every child). */
  victims: string[];
  reconnectEveryMs: number;
  reconnectDelayMs: number;
  timeoutMs: number;
}

/** What one child's layer traffic did between `layer` on and off. */
export interface LayerCounts {
  typingSent: number;
  typingSkipped: number;
  reconnects: number;
  reconnectFailures: Record<string, number>;
  seconds: number;
}

export type Command =
  | ({ id: number } & ConnectCommand)
  | ({ id: number } & LayerCommand)
  | { id: number; op: 'layer'; on: false }
  | ({ id: number } & InjectCommand)
  | ({ id: number } & SendCommand)
  | { id: number; op: 'window' }
  | { id: number; op: 'stats' }
  | { id: number; op: 'close'; count?: number }
  | { id: number; op: 'e2e'; tag: string | null }
  | { id: number; op: 'e2eDrain' }
  | { id: number; op: 'group'; tag: string | null }
  | { id: number; op: 'groupDrain' }
  | { id: number; op: 'exit' };

export interface ConnectResult {
  opened: number;
  failed: number;
  failures: Record<string, number>;
  elapsedMs: number;
}

export interface WindowStats {
  /** new_message frames received since the last `window` command. */
  frames: number;
  otherFrames: number;
  /** The other frames by their `type` (typing, presence, error, ready…). */
  otherByType: Record<string, number>;
  latency: HistogramSnapshot;
  /** Sockets open now, and closed by the server since the window started (with close codes). */
  open: number;
  closedByServer: number;
  closeCodes: Record<string, number>;
  /** CPU seconds this child used in the window (user+system) and the window's wall time. */
  cpuSeconds: number;
  wallSeconds: number;
  rssBytes: number;
}

export interface InjectResult {
  sent: number;
  elapsedMs: number;
  /** Times the channel's write buffer was full and the injector waited for `drain`. */
  drains: number;
}

export interface SendResult {
  attempted: number;
  ok: number;
  /** Non-201 answers by status, and network errors. */
  errors: Record<string, number>;
  /** Sends skipped because maxInFlight requests were outstanding (the server fell behind). */
  skipped: number;
  sendLatency: HistogramSnapshot;
  elapsedMs: number;
  /** key → epoch ms when the 201 arrived (performance.timeOrigin + now()). */
  acked: Array<[string, number]>;
  /** Every request, in the order sent, when the command asked for them. */
  records?: SendRecord[];
}

/**
 * Group mode's per-message tally of one child, for the 201→last-member join: [key, frames, distinct
 * sockets that got it, first arrival, last arrival] (epoch ms). One row per message instead of one
 * per frame: a 200-member group would otherwise send 200 rows per message over IPC.
 */
export type GroupTally = Array<[key: string, frames: number, sockets: number, firstAt: number, lastAt: number]>;

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ProgressEvent {
  progress: true;
  opened?: number;
  failed?: number;
  sent?: number;
}
