/**
 * Group names for listen's lines (`alice → #Team  hi`). Messages carry a group's id, not its
 * name, and a line must be printed the moment its message arrives (its cursor is stored right
 * after), so names come from what is already known: Chat's list, read once at start, and the
 * `created` and `renamed` messages as they pass. A group first met otherwise (the user was
 * added to it) shows as its id until a lookup, started then in the background, has answered.
 */
import type { ChatApi, ChatMessage } from '@chat/client-core';

export class GroupNameCache {
  private readonly names = new Map<string, string>();
  /** A 1:1's id → the peer's name, from the same list (listen names a 1:1 by it in read notices). */
  readonly peers = new Map<string, string>();
  private readonly asked = new Set<string>();

  constructor(
    private readonly api: Pick<ChatApi, 'allConversations' | 'group'>,
    private readonly token: string,
  ) {}

  /** Best effort: without the list, lines show ids until messages name the groups. */
  async load(): Promise<void> {
    try {
      for (const e of (await this.api.allConversations(this.token)).conversations) {
        if (e.type === 'group') this.names.set(e.id, e.name);
        else this.peers.set(e.id, e.peer.username);
      }
    } catch {
      /* the names are a nicety; listen itself must not fail for them */
    }
  }

  readonly lookup = (id: string): string | undefined => {
    const name = this.names.get(id);
    if (name === undefined && !this.asked.has(id)) {
      this.asked.add(id);
      this.api.group(this.token, id).then(
        (g) => this.names.set(id, g.name),
        () => undefined,
      );
    }
    return name;
  };

  /** Takes the name from a message that states it. */
  learn(m: ChatMessage): void {
    if (m.conversationId && m.name !== undefined && (m.event === 'created' || m.event === 'renamed')) this.names.set(m.conversationId, m.name);
  }
}
