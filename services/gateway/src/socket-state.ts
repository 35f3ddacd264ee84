import { CLOSE_CODES, type CloseReason } from '@chat/common/contracts';
import type { WebSocket } from 'uWebSockets.js';
import type { AddressCount } from './connection-limits.js';
import type { SocketCloseLabel } from './metrics.js';

/**
 * The verified user behind a socket. `id` is the token's `sub`. Once the socket is open, the
 * object is the one every socket of this user here shares (socket-registry.ts).
 */
export interface SocketUser {
  readonly id: string;
  readonly username: string;
}

/**
 * Per-socket state kept in uWS user data: who is connected and the connection's own limits. Where
 * the socket stands in its user's timeline is its stream's business (socket-streams.ts).
 *
 * uWS copies these properties onto its own socket object (getUserData() returns that object), so
 * every field costs every idle socket 8 bytes: nothing here that a socket does not need while
 * idle, and no per-socket copy of what its user's sockets share (the token, the user).
 */
export interface SocketState {
  user: SocketUser;
  /** This socket's token expiry, seconds since the epoch: the socket is closed then. */
  exp: number;
  /**
   * The user's token, from the upgrade to `open` only: then the registry keeps one token per
   * user (the newest-expiring) for replays, and this is cleared. Never logged.
   */
  token: string | undefined;
  /** `since` from the upgrade URL: a resume requested at connect time; cleared once read. */
  since: string | undefined;
  /**
   * Why the socket closed, the `reason` label of gateway_sockets_closed_total; undefined while it
   * is open. Set before `end()` (closeSocket) or in the close handler: uWS throws on any use of a
   * closed socket. One field, not a flag and a reason: a tenth property here grew every socket's
   * property array by 24 bytes (make bench's heap snapshot diff).
   */
  closedBy: SocketCloseLabel | undefined;
  /** Fixed one-second window for the frame rate limit. */
  rateWindowStart: number;
  framesInWindow: number;
  /** A frame reached the streams: a `resume` now comes too late. */
  sawFirstFrame: boolean;
  /** The client address's count (connection-limits.ts), shared by its sockets; undefined while that cap is off. */
  address: AddressCount | undefined;
}

export type GatewaySocket = WebSocket<SocketState>;

export function newSocketState(user: SocketUser, exp: number, token: string, since: string | undefined, address?: AddressCount): SocketState {
  return {
    user,
    exp,
    token,
    since,
    closedBy: undefined,
    rateWindowStart: 0,
    framesInWindow: 0,
    sawFirstFrame: false,
    address,
  };
}

/**
 * Closes a socket once, with the reason's close code from the protocol's table. uWS runs the
 * close handler synchronously inside `end()`, and any later call on the socket throws, so the
 * flag is set first.
 */
export function closeSocket(ws: GatewaySocket, reason: CloseReason): void {
  const state = ws.getUserData();
  if (state.closedBy !== undefined) return;
  state.closedBy = reason;
  ws.end(CLOSE_CODES[reason], reason);
}
