/**
 * Every way the gateway closes a WebSocket: the reason text it sends, and the close code that
 * goes with it. The reason is also the `reason` label of `gateway_sockets_closed_total`.
 * PROTOCOL.md's close-code table and the README's close-code line are checked against this
 * table (tests/system/protocol-docs.test.ts). Plain data with no imports, so a client can share it.
 */
export const CLOSE_CODES = {
  /** More than MAX_FRAMES_PER_SECOND frames in a second (1008 policy violation). */
  rate_limited: 1008,
  /** A frame over MAX_FRAME_BYTES (1009 message too big). */
  frame_too_large: 1009,
  /** The gateway is draining: a deploy or a scale-in (1012 service restart). */
  service_restart: 1012,
  /** The client's backlog passed MAX_BACKPRESSURE_BYTES (1013 try again later). */
  slow_consumer: 1013,
  /** Chat could not serve a replay (1013 try again later). */
  replay_unavailable: 1013,
  /** The token's `exp` passed: log in again (an application code, 4000–4999). */
  token_expired: 4001,
} as const satisfies Record<string, number>;

export type CloseReason = keyof typeof CLOSE_CODES;

export const CLOSE_REASONS = Object.keys(CLOSE_CODES) as CloseReason[];
