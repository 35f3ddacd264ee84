/**
 * At most one pass per key per `intervalMs` (typing: per user and conversation). A key's last
 * pass is forgotten once its interval is over, so memory follows the keys active in the last
 * interval, not every key ever seen: `prune` sweeps them, at most once per interval, in O(keys).
 * The clock is injectable.
 */
export class KeyedThrottle {
  private readonly last = new Map<string, number>();
  private prunedAt: number;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.prunedAt = now();
  }

  /** True when `key` may pass now (and records the pass). */
  pass(key: string): boolean {
    const now = this.now();
    if (now - this.prunedAt >= this.intervalMs) this.prune(now);
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.intervalMs) return false;
    this.last.set(key, now);
    return true;
  }

  get size(): number {
    return this.last.size;
  }

  private prune(now: number): void {
    this.prunedAt = now;
    for (const [key, at] of this.last) if (now - at >= this.intervalMs) this.last.delete(key);
  }
}
