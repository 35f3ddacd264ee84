import { summaryOf, type ConversationListEntry } from '@chat/client-core';
import type { Context } from '../context.ts';
import { conversationTitle, formatConversation, unreadBadge } from '../format.ts';

/**
 * One line per conversation (1:1 and group), most recent activity first, from Chat's list, with
 * the unread count Chat keeps (a column only when something is unread) and "✓ seen" where a
 * 1:1 peer has read the user's last message.
 */
export async function conversations(ctx: Context): Promise<void> {
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const page = await api.conversations(session.token, { limit: ctx.line.limit, before: ctx.line.before });
  const me = session.user.username;
  if (ctx.json) {
    for (const e of page.conversations) ctx.outJson(jsonOf(e));
  } else if (page.conversations.length === 0) {
    ctx.out(ctx.line.before ? 'No older conversations.' : 'No conversations yet. Start one: pnpm chat send <username> <text>, or pnpm chat group create <name> <member…>');
  } else {
    const list = page.conversations.map(summaryOf);
    const width = Math.max(...list.map((c) => [...conversationTitle(c)].length));
    const unreadWidth = Math.max(...list.map((c) => unreadBadge(c).length));
    const now = new Date();
    for (const c of list) ctx.out(formatConversation(c, me, width, now, unreadWidth));
  }
  if (page.nextBefore) {
    const limit = ctx.line.limit !== undefined ? ` --limit ${ctx.line.limit}` : '';
    ctx.note(`Older conversations: pnpm chat conversations${limit} --before ${page.nextBefore}`);
  }
}

/**
 * `--json`: Chat's entry, except that a 1:1's `peer` is the username (as this command printed
 * it before groups, so scripts reading `peer` keep working); the peer's id is in `peerId`.
 */
function jsonOf(e: ConversationListEntry): unknown {
  if (e.type === 'group') return e;
  const { peer, ...rest } = e;
  return { ...rest, peer: peer.username, peerId: peer.id };
}
