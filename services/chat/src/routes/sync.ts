import type { RouterMiddleware } from '@koa/router';
import { encodeCursor, type ChatMessage } from '@chat/common/contracts';
import type { TokenUser } from '@chat/common/jwt';
import { authUser } from '@chat/common/koa';
import type { UserDirectory } from '@chat/common/user-directory';
import { directConversationId } from '../conversation-id.js';
import type { Timeline } from '../timeline.js';
import { parseCursorParam, parseLimit, SYNC_LIMIT } from '../validation.js';

/**
 * GET /chat/sync?after=&limit= → every message of the caller's conversations after the cursor,
 * oldest first. Gap-free across replicas because timeline entries become visible in seq order
 * (see timeline.ts); the returned cursor is the last seq delivered (unchanged when nothing is new).
 */
export function syncRoute(deps: { timeline: Timeline; directory: UserDirectory }): RouterMiddleware {
  return async (ctx) => {
    const user = authUser(ctx);
    const after = parseCursorParam(ctx.query.after, user.id, 'after') ?? 0;
    const limit = parseLimit(ctx.query.limit, SYNC_LIMIT);
    const entries = await deps.timeline.after(user.id, after, limit + 1);
    const page = entries.slice(0, limit);
    const cursor = encodeCursor({ userId: user.id, seq: page.at(-1)?.seq ?? after });
    const messages = await Promise.all(page.map((entry) => withConversationId(entry.messageJson, user, deps.directory)));
    // The same object as {messages, cursor, hasMore}, written from the stored JSON of each
    // message (made by JSON.stringify when it was appended) instead of parsed and re-serialized.
    ctx.type = 'application/json';
    ctx.body = `{"messages":[${messages.join(',')}],"cursor":${JSON.stringify(cursor)},"hasMore":${entries.length > limit}}`;
  };
}

/** How every entry stored before conversations existed opens: a 1:1 message without `conversationId`. */
const BEFORE_CONVERSATIONS = /^\{"id":"[0-9a-f]{24}","from":/;

/**
 * A timeline entry as the API shows messages now. Entries written before conversations existed
 * lack `conversationId` (a 1:1 message); it is derived from the two users, the peer's id found
 * through the directory (cached), so an upgraded deployment serves old entries in the new shape
 * without rewriting them. Every other entry is passed through untouched.
 */
async function withConversationId(json: string, user: TokenUser, directory: UserDirectory): Promise<string> {
  if (!BEFORE_CONVERSATIONS.test(json)) return json;
  const { id, ...rest } = JSON.parse(json) as ChatMessage;
  const peerName = rest.from === user.username ? rest.to : rest.from;
  const peer = peerName === undefined || peerName === user.username ? user : await directory.resolve(peerName);
  if (!peer) return json; // the peer's account is gone: the message still shows, without its conversation
  return JSON.stringify({ id, conversationId: directConversationId(user.id, peer.id), ...rest });
}
