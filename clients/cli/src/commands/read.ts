/**
 * `read <with>` and `receipts <with>` (issue 14): read marks, a high-water mark per member and
 * conversation. Chat names a conversation by its id; a 1:1's (`dm:…`) is on its messages, so
 * both commands start from the conversation's newest message (one `history` call).
 */
import type { ChatApi, ChatMessage } from '@chat/client-core';
import type { Context } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { formatTime, visible } from '../format.ts';
import { parseTarget, resolveTarget, type Resolved } from '../targets.ts';

/** The conversation named by the first argument, and its newest message (undefined in an empty one). */
async function newest(ctx: Context): Promise<{ api: ChatApi; token: string; me: string; target: Resolved; label: string; message: ChatMessage | undefined }> {
  const which = ctx.line.args[0]!;
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const target = await resolveTarget(parseTarget(which), async () => (await api.allConversations(session.token)).conversations);
  const query = target.kind === 'user' ? { with: target.username } : { conversation: target.id };
  const page = await api.history(session.token, { ...query, limit: 1 });
  const label = target.kind === 'conversation' && target.name !== undefined ? `#${visible(target.name)}` : visible(which);
  return { api, token: session.token, me: session.user.username, target, label, message: page.messages[0] };
}

function conversationIdOf(target: Resolved, message: ChatMessage | undefined): string | undefined {
  return target.kind === 'conversation' ? target.id : message?.conversationId;
}

export async function read(ctx: Context): Promise<void> {
  const { api, token, target, label, message } = await newest(ctx);
  const id = conversationIdOf(target, message);
  if (!message || !id) {
    if (ctx.json) ctx.outJson({ conversationId: id ?? null, readUpTo: null, unread: 0 });
    else ctx.out(`Nothing to mark read with ${label} yet.`);
    return;
  }
  const res = await api.markRead(token, id, message.id);
  if (ctx.json) ctx.outJson({ conversationId: id, ...res });
  else ctx.out(res.unread > 0 ? `Marked read: ${label}; ${res.unread} newer message${res.unread === 1 ? '' : 's'} arrived meanwhile.` : `Marked read: ${label}.`);
}

export async function receipts(ctx: Context): Promise<void> {
  const { api, token, target, label, message } = await newest(ctx);
  const id = conversationIdOf(target, message);
  if (!id) throw new CliError(EXIT.refused, `No messages with ${label} yet, so nothing has been read.`);
  const r = await api.receipts(token, id);
  if (ctx.json) return ctx.outJson(r);
  ctx.out(`${label}: ${r.memberCount} member${r.memberCount === 1 ? '' : 's'}, ${r.readLatestCount} ha${r.readLatestCount === 1 ? 's' : 've'} read the newest message`);
  if (r.receipts === null) {
    ctx.out('  (a group this large shows counts only)');
    return;
  }
  const width = Math.max(...r.receipts.map((x) => [...visible(x.user.username)].length));
  const now = new Date();
  for (const x of r.receipts) {
    const state = x.readUpTo === null ? 'nothing read yet' : x.readUpTo === message?.id ? 'read the newest' : 'read up to an older message';
    const when = x.at ? ` (${formatTime(x.at, now)})` : '';
    ctx.out(`  ${visible(x.user.username).padEnd(width)}  ${state}${when}`);
  }
}
