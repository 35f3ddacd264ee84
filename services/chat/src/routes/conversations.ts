import Router from '@koa/router';
import type { Middleware } from 'koa';
import { invalidRequest } from '@chat/common/contracts';
import { authUser, jsonBody } from '@chat/common/koa';
import { parseConversationId } from '../conversation-id.js';
import type { ConversationsRepository, GroupListFields, MembershipDoc } from '../conversations-repo.js';
import { directMembershipOrNotFound } from '../group-access.js';
import type { Groups } from '../groups.js';
import type { ListReceipt, Receipts } from '../receipts.js';
import { CONVERSATIONS_LIMIT, parseLimit } from '../validation.js';

/**
 * /conversations: the caller's conversation list (groups and 1:1, most recent activity first),
 * one conversation, group membership changes (groups.ts), and read receipts (receipts.ts). Every
 * route needs a user token.
 */
export function conversationsRouter(deps: { groups: Groups; conversations: ConversationsRepository; receipts: Receipts; requireUser: Middleware }): Router {
  const { groups, conversations, receipts, requireUser } = deps;
  const router = new Router({ prefix: '/conversations' });

  router.get('/', requireUser, async (ctx) => {
    const user = authUser(ctx);
    const limit = parseLimit(ctx.query.limit as string | string[] | undefined, CONVERSATIONS_LIMIT);
    const before = decodeListCursor(ctx.query.before);
    await conversations.ensureIndexes();
    const found = await conversations.list(user.id, before, limit + 1);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    const [reading, groupFields] = await Promise.all([
      receipts.forList(user.id, page),
      conversations.groupListFields(user.id, page.filter((doc) => doc.type === 'group').map((doc) => doc.conversationId)),
    ]);
    ctx.body = {
      conversations: page.map((doc) => listEntry(doc, reading.get(doc.conversationId)!, groupFields.get(doc.conversationId))),
      nextBefore: found.length > limit && last ? encodeListCursor(last) : null,
    };
  });

  router.post('/', requireUser, async (ctx) => {
    ctx.status = 201;
    ctx.body = { conversation: await groups.create(authUser(ctx), jsonBody(ctx)) };
  });

  router.get('/:id', requireUser, async (ctx) => {
    const user = authUser(ctx);
    const ref = parseConversationId(ctx.params.id);
    if (ref?.type === 'direct') {
      const membership = await directMembershipOrNotFound(conversations, ref, user.id);
      ctx.body = { conversation: { id: ref.id, type: 'direct', peer: membership.peer, createdAt: membership.joinedAt.toISOString() } };
      return;
    }
    ctx.body = { conversation: await groups.view(user, ctx.params.id!) };
  });

  router.patch('/:id', requireUser, async (ctx) => {
    ctx.body = { conversation: await groups.rename(authUser(ctx), ctx.params.id!, jsonBody(ctx)) };
  });

  router.post('/:id/members', requireUser, async (ctx) => {
    ctx.body = { conversation: await groups.addMembers(authUser(ctx), ctx.params.id!, jsonBody(ctx)) };
  });

  router.delete('/:id/members/:username', requireUser, async (ctx) => {
    const conversation = await groups.removeMember(authUser(ctx), ctx.params.id!, ctx.params.username!);
    if (conversation) ctx.body = { conversation };
    else ctx.status = 204; // the caller left
  });

  router.post('/:id/read', requireUser, async (ctx) => {
    ctx.body = await receipts.read(authUser(ctx), ctx.params.id!, jsonBody(ctx));
  });

  router.get('/:id/receipts', requireUser, async (ctx) => {
    ctx.body = await receipts.receipts(authUser(ctx), ctx.params.id!);
  });

  router.patch('/:id/members/:username', requireUser, async (ctx) => {
    ctx.body = { conversation: await groups.setRole(authUser(ctx), ctx.params.id!, ctx.params.username!, jsonBody(ctx)) };
  });

  return router;
}

/**
 * A list entry: a group by its name, a 1:1 conversation by its peer, each with its newest message
 * and what the caller (and a 1:1 peer) read. A group's name, count and the caller's role come from
 * `group` (groupListFields) when it has them, the membership's copies otherwise.
 */
function listEntry(doc: MembershipDoc, reading: ListReceipt, group: GroupListFields | undefined) {
  const lastMessage: unknown = doc.lastMessageJson === null ? null : JSON.parse(doc.lastMessageJson);
  const lastActivityAt = doc.lastActivityAt.toISOString();
  if (doc.type === 'direct') return { id: doc.conversationId, type: 'direct', peer: doc.peer, lastMessage, lastActivityAt, ...reading };
  return {
    id: doc.conversationId,
    type: 'group',
    name: group?.name ?? doc.name,
    createdAt: doc.groupCreatedAt?.toISOString(),
    createdBy: doc.createdBy,
    memberCount: group?.memberCount ?? doc.memberCount,
    role: group?.role ?? doc.role,
    lastMessage,
    lastActivityAt,
    ...reading,
  };
}

/** The list's cursor: opaque to clients, the sort key of the last entry of a page. */
function encodeListCursor(doc: MembershipDoc): string {
  return Buffer.from(`l1:${doc.lastActivityAt.getTime()}:${doc.conversationId}`, 'utf8').toString('base64url');
}

function decodeListCursor(value: string | string[] | undefined): { at: Date; conversationId: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 200 || !/^[A-Za-z0-9_-]+$/.test(value)) throw invalidRequest('before is not a valid cursor');
  const m = /^l1:(\d{1,15}):(.{1,100})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!m || !parseConversationId(m[2])) throw invalidRequest('before is not a valid cursor');
  return { at: new Date(Number(m[1])), conversationId: m[2]! };
}
