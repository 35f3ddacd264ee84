import type { ChatApi, ChatMessage } from '@chat/client-core';
import type { Context } from '../context.ts';
import { formatMessage } from '../format.ts';
import { parseTarget, resolveTarget } from '../targets.ts';

/**
 * One page of a conversation (a user's, or a group's), printed oldest first (Chat answers newest
 * first). The newest page marks the conversation read, unless --keep-unread.
 */
export async function history(ctx: Context): Promise<void> {
  const which = ctx.line.args[0]!;
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const target = await resolveTarget(parseTarget(which), async () => (await api.allConversations(session.token)).conversations);
  // A group's lines show its name; asked for by id, the group itself says it (and a group the
  // user is not in fails here, with Chat's one answer for "no such group" and "not yours").
  let name = target.kind === 'conversation' ? target.name : undefined;
  if (target.kind === 'conversation' && name === undefined && target.id.startsWith('g:')) name = (await api.group(session.token, target.id)).name;
  const query = target.kind === 'user' ? { with: target.username } : { conversation: target.id };
  const page = await api.history(session.token, { ...query, limit: ctx.line.limit, before: ctx.line.before });
  const messages = [...page.messages].reverse();
  const now = new Date();
  for (const m of messages) {
    if (ctx.json) ctx.outJson(m);
    else ctx.out(formatMessage(m, now, () => name));
  }
  if (!ctx.line.before && !ctx.line.keepUnread) await markShown(api, session.token, session.user.username, page.messages[0]);
  if (messages.length === 0 && !ctx.json) ctx.out(ctx.line.before ? `No older messages with ${which}.` : `No messages with ${which} yet.`);
  // The way to the previous page goes to stderr: stdout stays one message per line.
  if (page.nextBefore) {
    const limit = ctx.line.limit !== undefined ? ` --limit ${ctx.line.limit}` : '';
    ctx.note(`Older messages: pnpm chat history ${shellWord(which)}${limit} --before ${page.nextBefore}`);
  }
}

/**
 * The newest page was shown: the conversation is read up to its newest message (Chat moves the
 * mark to the user's own messages itself). Quietly best effort: the history is what was asked
 * for, and a Chat without read receipts answers 404.
 */
async function markShown(api: ChatApi, token: string, me: string, newest: ChatMessage | undefined): Promise<void> {
  if (!newest?.conversationId || newest.from.toLowerCase() === me.toLowerCase()) return;
  try {
    await api.markRead(token, newest.conversationId, newest.id);
  } catch {
    /* `read <with>` says what went wrong when it matters */
  }
}

/** `#Team` must be quoted to reach us from a shell; anything else a username or id holds is safe as it is. */
function shellWord(s: string): string {
  return /^[\w.:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
