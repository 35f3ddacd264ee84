import type { GatewaySocket } from './socket-state.js';

/**
 * The open sockets of this process, indexed by user id (the token's `sub`): an event for a user
 * reaches every device of that user connected here, in O(devices).
 */
export class SocketRegistry {
  private readonly byUser = new Map<string, Set<GatewaySocket>>();
  private count = 0;

  add(ws: GatewaySocket): void {
    const userId = ws.getUserData().user.id;
    let sockets = this.byUser.get(userId);
    if (!sockets) {
      sockets = new Set();
      this.byUser.set(userId, sockets);
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
