/**
 * The message ids a client has already shown, so a message that arrives twice (a replay after
 * a reconnect, a gateway that filled a hole, two paths to one screen) is shown once.
 *
 * A Set plus insertion order: `add` is O(1) and, past `capacity`, forgets the oldest id. The
 * bound is safe because duplicates only arrive close to the original: a resume replays from
 * the client's own last cursor, so anything older than the last few thousand ids cannot come
 * back. Memory: about 100 bytes per id.
 */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** True when `id` is new (and remembers it); false for a duplicate. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
