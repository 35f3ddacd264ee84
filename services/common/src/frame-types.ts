/**
 * The WebSocket protocol's vocabulary: every frame `type` in each direction, and every `code` of
 * an `error` frame. PROTOCOL.md and the README's gateway table are checked against these tables
 * (tests/system/protocol-docs.test.ts). Plain data with no imports, so a client can share it.
 */

/** What the gateway sends. */
export const SERVER_FRAME_TYPES = ['ready', 'new_message', 'synced', 'resync_required', 'pong', 'error', 'typing', 'read', 'presence'] as const;
export type ServerFrameType = (typeof SERVER_FRAME_TYPES)[number];

/** What a client may send. */
export const CLIENT_FRAME_TYPES = ['ping', 'resume', 'typing'] as const;
export type ClientFrameType = (typeof CLIENT_FRAME_TYPES)[number];

/** `error.code` of an `error` frame; the socket stays open after one. */
export const FRAME_ERROR_CODES = ['bad_frame', 'invalid_cursor', 'not_a_member'] as const;
export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];
