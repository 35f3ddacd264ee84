import type { GatewaySocket, SocketUser } from './socket-state.js';

/**
 * One user's sockets here, and what they share: one user object (id and username, interned so
 * each socket does not keep copies of its own), and the user's newest-expiring token, the one
 * replays read Chat with (any valid token of the user serves; the newest one stays valid while any
 * of the user's sockets is open, since each socket is closed when its own token expires).
 */
export class UserSockets extends Set<GatewaySocket> {
  constructor(
    readonly user: SocketUser,
    public token: string | undefined,
    public tokenExp: number,
  ) {
    super();
  }
}

/**
 * A copy of `token` that holds nothing else: a token taken from the upgrade URL is a slice of
 * the whole query string, and kept as is it would keep that string alive too.
 */
function ownCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

/**
 * The open sockets of this process, indexed by user id (the token's `sub`): an event for a user
 * reaches every device of that user connected here, in O(devices).
 */
export class SocketRegistry {
  private readonly byUser = new Map<string, UserSockets>();
  private count = 0;

  /**
   * Adds an open socket with its token. The socket's user becomes the object its user's sockets
   * share (when the username agrees), and the token replaces the user's if it expires later.
   */
  add(ws: GatewaySocket, token?: string): void {
    const state = ws.getUserData();
    const userId = state.user.id;
    let sockets = this.byUser.get(userId);
    if (!sockets) {
      sockets = new UserSockets(state.user, token === undefined ? undefined : ownCopy(token), state.exp);
      this.byUser.set(userId, sockets);
    } else {
      if (token !== undefined && (sockets.token === undefined || state.exp > sockets.tokenExp)) {
        sockets.token = ownCopy(token);
        sockets.tokenExp = state.exp;
      }
      if (sockets.user.username === state.user.username) state.user = sockets.user;
    }
    if (!sockets.has(ws)) {
      sockets.add(ws);
      this.count++;
    }
  }

  remove(ws: GatewaySocket): void {
    const userId = ws.getUserData().user.id;
    const sockets = this.byUser.get(userId);
    if (!sockets?.delete(ws)) return;
    this.count--;
    if (sockets.size === 0) this.byUser.delete(userId);
  }

  socketsOf(userId: string): ReadonlySet<GatewaySocket> | undefined {
    return this.byUser.get(userId);
  }

  /** The token replays for this user read Chat with; undefined when none of its sockets is open. */
  tokenOf(userId: string): string | undefined {
    return this.byUser.get(userId)?.token;
  }

  get size(): number {
    return this.count;
  }

  /** A snapshot, safe to iterate while sockets close (closing removes them from the registry). */
  all(): GatewaySocket[] {
    const out: GatewaySocket[] = [];
    for (const sockets of this.byUser.values()) for (const ws of sockets) out.push(ws);
    return out;
  }
}
