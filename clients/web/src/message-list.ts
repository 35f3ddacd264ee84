/**
 * Messages on screen, each once, oldest first. The same message reaches the page by up to four
 * paths (a history page, the send response, the live frame echoing it back, a replay after a
 * reconnect), so everything the page shows goes through `add`, which drops a known id.
 *
 * Order is by `createdAt`; equal times keep arrival order, which for the live stream is the
 * order Chat stored them. New messages normally land at the end, so the insert scans from the
 * end: O(1) for live traffic, O(n) for an older history page (n is what is on screen).
 */
import type { ChatMessage } from '@chat/client-core';

export class MessageList {
  private readonly items: ChatMessage[] = [];
  private readonly ids = new Set<string>();

  /** Inserts `m` in order and returns its index, or -1 when this id is already here. */
  add(m: ChatMessage): number {
    if (this.ids.has(m.id)) return -1;
    this.ids.add(m.id);
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.createdAt > m.createdAt) i--;
    this.items.splice(i, 0, m);
    return i;
  }

  /** Where `id` is (scanning from the newest end, where marks usually are), or undefined. */
  indexOf(id: string): number | undefined {
    if (!this.ids.has(id)) return undefined;
    for (let i = this.items.length - 1; i >= 0; i--) if (this.items[i]!.id === id) return i;
    return undefined;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get messages(): readonly ChatMessage[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }

  get last(): ChatMessage | undefined {
    return this.items.at(-1);
  }
}
