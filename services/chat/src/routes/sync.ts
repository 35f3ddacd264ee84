import type { RouterMiddleware } from '@koa/router';
import { encodeCursor } from '@chat/common/contracts';
import { authUser } from '@chat/common/koa';
import type { Timeline } from '../timeline.js';
import { parseCursorParam, parseLimit, SYNC_LIMIT } from '../validation.js';

/**
 * GET /chat/sync?after=&limit= → every message to or from the caller after the cursor, oldest
 * first. Gap-free across replicas because timeline entries become visible in seq order (see
 * timeline.ts); the returned cursor is the last seq delivered (unchanged when nothing is new).
 */
export function syncRoute(deps: { timeline: Timeline }): RouterMiddleware {
  return async (ctx) => {
    const user = authUser(ctx);
    const after = parseCursorParam(ctx.query.after, user.id, 'after') ?? 0;
    const limit = parseLimit(ctx.query.limit, SYNC_LIMIT);
    const entries = await deps.timeline.after(user.id, after, limit + 1);
    const page = entries.slice(0, limit);
    const cursor = encodeCursor({ userId: user.id, seq: page.at(-1)?.seq ?? after });
    // The same object as {messages, cursor, hasMore}, written from the stored JSON of each
    // message (made by JSON.stringify when it was appended) instead of parsed and re-serialized.
    ctx.type = 'application/json';
    ctx.body = `{"messages":[${page.map((entry) => entry.messageJson).join(',')}],"cursor":${JSON.stringify(cursor)},"hasMore":${entries.length > limit}}`;
  };
}
