import type { RouterMiddleware } from '@koa/router';
import { encodeCursor, notFound } from '@chat/common/contracts';
import type { UserDirectory } from '@chat/common/user-directory';
import { authUser } from '@chat/common/koa';
import type { Timeline } from '../timeline.js';
import { HISTORY_LIMIT, parseCursorParam, parseLimit, parseUsernameParam } from '../validation.js';

/**
 * GET /chat/history?with=&limit=&before= → the caller's conversation with `with`, newest first.
 * Pages walk the caller's timeline backwards by seq; a new message always gets a higher seq
 * than anything already there, so it can never land behind a cursor and the walk is complete.
 */
export function historyRoute(deps: { timeline: Timeline; directory: UserDirectory }): RouterMiddleware {
  return async (ctx) => {
    const user = authUser(ctx);
    const withName = parseUsernameParam(ctx.query.with, 'with');
    const limit = parseLimit(ctx.query.limit, HISTORY_LIMIT);
    const before = parseCursorParam(ctx.query.before, user.id, 'before');
    const peer = await deps.directory.resolve(withName);
    if (!peer) throw notFound('user_not_found', 'no such user');
    const entries = await deps.timeline.conversation(user.id, peer.id, before, limit + 1);
    const page = entries.slice(0, limit);
    const last = page.at(-1);
    ctx.body = {
      messages: page.map((entry) => entry.message),
      nextBefore: entries.length > limit && last ? encodeCursor({ userId: user.id, seq: last.seq }) : null,
    };
  };
}
