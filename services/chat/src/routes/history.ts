import type { RouterMiddleware } from '@koa/router';
import { encodeCursor, notFound } from '@chat/common/contracts';
import type { UserDirectory } from '@chat/common/user-directory';
import { authUser } from '@chat/common/koa';
import { directConversationId, toChatMessage } from '../message.js';
import type { MessagesRepository } from '../messages-repo.js';
import { HISTORY_LIMIT, parseCursorParam, parseLimit, parseUsernameParam } from '../validation.js';

/**
 * GET /chat/history?with=&limit=&before= → the caller's conversation with `with`, newest first.
 * Pages walk the conversation backwards by position; a new message always gets a higher
 * position than anything already there, so it can never land behind a cursor and the walk is
 * complete. The cursor is the caller's (bound to their id) and holds a position.
 */
export function historyRoute(deps: { messages: MessagesRepository; directory: UserDirectory }): RouterMiddleware {
  return async (ctx) => {
    const user = authUser(ctx);
    const withName = parseUsernameParam(ctx.query.with, 'with');
    const limit = parseLimit(ctx.query.limit, HISTORY_LIMIT);
    const before = parseCursorParam(ctx.query.before, user.id, 'before');
    const peer = await deps.directory.resolve(withName);
    if (!peer) throw notFound('user_not_found', 'no such user');
    const found = await deps.messages.conversation(directConversationId(user.id, peer.id), before, limit + 1);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    ctx.body = {
      messages: page.map(toChatMessage),
      nextBefore: found.length > limit && last ? encodeCursor({ userId: user.id, seq: last.position }) : null,
    };
  };
}
