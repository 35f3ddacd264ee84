import type { GatewaySocket } from './socket-state.js';

/**
 * Closes sockets whose token has expired. Sockets are bucketed by their `exp` second and one
 * timer walks the seconds that passed since its last tick: the cost is O(expired sockets), not
 * O(open sockets) per tick, and there is no timer per socket (cheap at 10k+ sockets).
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Set<GatewaySocket>>();
  private lastSwept = Math.floor(Date.now() / 1000);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onExpired: (ws: GatewaySocket) => void, private readonly tickMs = 250) {}

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Registers a socket. A token that is already expired is reported at once. */
  add(ws: GatewaySocket, exp: number): void {
    if (exp <= this.lastSwept) {
      this.onExpired(ws);
      return;
    }
    let bucket = this.buckets.get(exp);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(exp, bucket);
    }
    bucket.add(ws);
  }

  remove(ws: GatewaySocket, exp: number): void {
    const bucket = this.buckets.get(exp);
    if (!bucket) return;
    bucket.delete(ws);
    if (bucket.size === 0) this.buckets.delete(exp);
  }

  /** Expires every bucket whose second is now in the past (`exp` is the last valid second). */
  sweep(nowMs = Date.now()): void {
    const now = Math.floor(nowMs / 1000);
    // A token is valid while now < exp (RFC 7519 §4.1.4): second `exp` itself is expired.
    for (let second = this.lastSwept + 1; second <= now; second++) {
      const bucket = this.buckets.get(second);
      if (!bucket) continue;
      this.buckets.delete(second);
      for (const ws of bucket) this.onExpired(ws);
    }
    this.lastSwept = Math.max(this.lastSwept, now);
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }
}
