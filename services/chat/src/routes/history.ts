import type { RouterMiddleware } from '@koa/router';
import { encodeCursor, invalidRequest, notFound } from '@chat/common/contracts';
import type { TokenUser } from '@chat/common/jwt';
import type { UserDirectory } from '@chat/common/user-directory';
import { authUser } from '@chat/common/koa';
import { directConversationId, parseConversationId, peerIn } from '../conversation-id.js';
import type { ConversationsRepository } from '../conversations-repo.js';
import { conversationNotFound, memberOrNotFound } from '../group-access.js';
import { toChatMessage } from '../message.js';
import type { MessagesRepository } from '../messages-repo.js';
import { HISTORY_LIMIT, parseConversationParam, parseCursorParam, parseLimit, parseUsernameParam } from '../validation.js';

interface HistoryDeps {
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  directory: UserDirectory;
}

/**
 * GET /chat/history?conversation=<id> (or with=<username> for 1:1)&limit=&before= → one
 * conversation of the caller, newest first. Pages walk the conversation backwards by position;
 * a new message always gets a higher position than anything already there, so it can never
 * land behind a cursor and the walk is complete. The cursor is the caller's (bound to their id)
 * and holds a position. A group member reads from the message that added them (`since`) on; a
 * former member reads nothing (404, like any conversation they are not in).
 */
export function historyRoute(deps: HistoryDeps): RouterMiddleware {
  /** The conversation to read and the first position the caller may see in it. */
  async function readable(user: TokenUser, query: Record<string, string | string[] | undefined>): Promise<{ conversationId: string; since: number }> {
    if ((query.with === undefined) === (query.conversation === undefined)) throw invalidRequest('exactly one of with and conversation is required');
    if (query.with !== undefined) {
      const peer = await deps.directory.resolve(parseUsernameParam(query.with, 'with'));
      if (!peer) throw notFound('user_not_found', 'no such user');
      return { conversationId: directConversationId(user.id, peer.id), since: 1 };
    }
    const ref = parseConversationId(parseConversationParam(query.conversation, 'conversation'));
    if (!ref) throw conversationNotFound();
    if (ref.type === 'direct') {
      if (peerIn(ref, user.id) === undefined) throw conversationNotFound();
      return { conversationId: ref.id, since: 1 };
    }
    const me = memberOrNotFound(await deps.conversations.members(ref.id), user.id);
    return { conversationId: ref.id, since: me.since ?? 1 };
  }

  return async (ctx) => {
    const user = authUser(ctx);
    const limit = parseLimit(ctx.query.limit, HISTORY_LIMIT);
    const before = parseCursorParam(ctx.query.before, user.id, 'before');
    const { conversationId, since } = await readable(user, ctx.query);
    const found = (await deps.messages.conversation(conversationId, before, limit + 1)).filter((m) => m.position >= since);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    ctx.body = {
      messages: page.map(toChatMessage),
      nextBefore: found.length > limit && last ? encodeCursor({ userId: user.id, seq: last.position }) : null,
    };
  };
}
