import { CLOSE_CODES, type CloseReason } from '@chat/common/contracts';
import type { WebSocket } from 'uWebSockets.js';

/** The verified user behind a socket. `id` is the token's `sub`. */
export interface SocketUser {
  id: string;
  username: string;
  /** Token expiry, seconds since the epoch. */
  exp: number;
}

/**
 * Per-socket state kept in uWS user data: who is connected and the connection's own limits. Where
 * the socket stands in its user's timeline is its stream's business (socket-streams.ts).
 */
export interface SocketState {
  user: SocketUser;
  /** The user's own token, for reading a replay from Chat on the user's behalf. Never logged. */
  token: string;
  /** `since` from the upgrade URL: a resume requested at connect time. */
  since: string | undefined;
  /** Set before `end()` and in the close handler: uWS throws on any use of a closed socket. */
  closed: boolean;
  /** Why the server closed it (a metric label); undefined when the client went away. */
  closeReason: CloseReason | undefined;
  /** Fixed one-second window for the frame rate limit. */
  rateWindowStart: number;
  framesInWindow: number;
}

export type GatewaySocket = WebSocket<SocketState>;

export function newSocketState(user: SocketUser, token: string, since: string | undefined): SocketState {
  return {
    user,
    token,
    since,
    closed: false,
    closeReason: undefined,
    rateWindowStart: 0,
    framesInWindow: 0,
  };
}

/**
 * Closes a socket once, with the reason's close code from the protocol's table. uWS runs the
 * close handler synchronously inside `end()`, and any later call on the socket throws, so the
 * flag is set first.
 */
export function closeSocket(ws: GatewaySocket, reason: CloseReason): void {
  const state = ws.getUserData();
  if (state.closed) return;
  state.closed = true;
  state.closeReason = reason;
  ws.end(CLOSE_CODES[reason], reason);
}
