/**
 * The conversation list, built from the user's own message stream (`sync` and live frames)
 * until Chat serves `GET /conversations`: one entry per peer, most recent activity first.
 * `unread` counts messages from the peer that arrived after `readUpTo[peer]` (a message id the
 * client last showed), a client-side count until the backend keeps read marks.
 */
import type { ChatMessage } from './api.ts';

export interface ConversationSummary {
  peer: string;
  lastMessage: ChatMessage;
  unread: number;
}

export function conversationsFrom(messages: Iterable<ChatMessage>, me: string, readUpTo: Record<string, string> = {}): ConversationSummary[] {
  const byPeer = new Map<string, ConversationSummary>();
  for (const m of messages) {
    const peer = m.from === me ? m.to : m.from;
    let c = byPeer.get(peer);
    if (!c) {
      c = { peer, lastMessage: m, unread: 0 };
      byPeer.set(peer, c);
    }
    c.lastMessage = m;
    if (m.from !== me) c.unread++;
    if (readUpTo[peer] === m.id) c.unread = 0;
  }
  // Stream order is storage order, so the last message seen per peer is its newest; ties in
  // createdAt keep the stream's order.
  return [...byPeer.values()].sort((a, b) => (a.lastMessage.createdAt < b.lastMessage.createdAt ? 1 : a.lastMessage.createdAt > b.lastMessage.createdAt ? -1 : 0));
}
