import type { Context } from '../context.ts';
import { formatMessage } from '../format.ts';

/** One page of a conversation, printed oldest first (Chat answers newest first). */
export async function history(ctx: Context): Promise<void> {
  const peer = ctx.line.args[0]!;
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const page = await api.history(session.token, { with: peer, limit: ctx.line.limit, before: ctx.line.before });
  const messages = [...page.messages].reverse();
  const now = new Date();
  for (const m of messages) ctx.out(ctx.json ? JSON.stringify(m) : formatMessage(m, now));
  if (messages.length === 0 && !ctx.json) ctx.out(ctx.line.before ? `No older messages with ${peer}.` : `No messages with ${peer} yet.`);
  // The way to the previous page goes to stderr: stdout stays one message per line.
  if (page.nextBefore) {
    const limit = ctx.line.limit !== undefined ? ` --limit ${ctx.line.limit}` : '';
    ctx.note(`Older messages: pnpm chat history ${peer}${limit} --before ${page.nextBefore}`);
  }
}
