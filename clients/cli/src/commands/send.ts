import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, describeError, newClientMsgId, retryAfterMs, retryDelay, UnreachableError } from '@chat/client-core';
import type { Context } from '../context.ts';
import { toCliError } from '../errors.ts';
import { formatMessage } from '../format.ts';
import { parseTarget, resolveTarget } from '../targets.ts';

/**
 * Worth one more try: no answer at all, or Chat saying it cannot store right now. Either may
 * hide a message that was stored (the answer was lost on the way back), which is why the retry
 * carries the same clientMsgId: Chat then answers 200 with the original instead of storing it
 * twice.
 */
function retryable(err: unknown): boolean {
  return err instanceof UnreachableError || (err instanceof ApiError && err.status === 503);
}

/**
 * The longest Retry-After a one-shot command waits out for its one retry (plus its jitter, up to
 * half of it). A server asking for longer is reported with its wait instead: retrying sooner
 * than it asked is refused again.
 */
const MAX_RETRY_WAIT_MS = 5_000;

export async function send(ctx: Context): Promise<void> {
  const [to, ...words] = ctx.line.args as [string, ...string[]];
  // The shell already split the text into words; they are joined back with single spaces, as
  // echo does. Quote the text to keep its own spacing.
  const text = words.join(' ');
  const session = ctx.session();
  const api = ctx.api(ctx.endpoints(session.endpoints));
  const target = await resolveTarget(parseTarget(to), async () => (await api.allConversations(session.token)).conversations);
  const input = { ...(target.kind === 'user' ? { to: target.username } : { conversationId: target.id }), text, clientMsgId: newClientMsgId() };
  let result;
  try {
    result = await api.send(session.token, input);
  } catch (err) {
    // As long as the server asked (jittered above it), else the first step of the reconnect
    // backoff; whether to wait at all is decided on what the server asked, not on the draw.
    const wait = retryDelay(err, 0);
    if (!retryable(err) || (retryAfterMs(err) ?? 0) > MAX_RETRY_WAIT_MS) throw toCliError(err, { text });
    ctx.note(`${describeError(err).message} Trying once more (a message that did arrive is not stored twice).`);
    await sleep(wait);
    try {
      result = await api.send(session.token, input);
    } catch (again) {
      throw toCliError(again, { text });
    }
  }
  if (ctx.json) ctx.outJson(result);
  else {
    const name = target.kind === 'conversation' ? target.name : undefined;
    ctx.out(formatMessage(result.message, undefined, () => name));
    if (!result.created) ctx.note('(It had already arrived on the first try; it is stored once.)');
  }
}
