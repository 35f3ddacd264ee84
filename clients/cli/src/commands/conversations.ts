import { conversationsFrom } from '@chat/client-core';
import type { Context } from '../context.ts';
import { formatConversation } from '../format.ts';

/** One line per peer, most recent first, built from the whole sync stream (Chat has no conversation list yet). */
export async function conversations(ctx: Context): Promise<void> {
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const { messages, complete } = await api.syncAll(session.token);
  const me = session.user.username;
  const list = conversationsFrom(messages, me);
  if (!complete) ctx.note(`Only the first ${messages.length} messages were read; older conversations may be missing.`);
  if (ctx.json) {
    // Without read marks in this client, core's `unread` would count every message ever received; it is left out.
    for (const c of list) ctx.outJson({ peer: c.peer, lastMessage: c.lastMessage });
    return;
  }
  if (list.length === 0) return ctx.out('No conversations yet. Start one: pnpm chat send <username> <text>');
  const width = Math.max(...list.map((c) => c.peer.length));
  const now = new Date();
  for (const c of list) ctx.out(formatConversation(c, me, width, now));
}
