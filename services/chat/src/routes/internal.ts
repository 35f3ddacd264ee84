import Router from '@koa/router';
import type { Middleware } from 'koa';
import { forbidden, invalidRequest, parseConversationId } from '@chat/common/contracts';
import { jsonBody } from '@chat/common/koa';
import type { ContactsOf } from '../contacts.js';
import type { ConversationsRepository } from '../conversations-repo.js';
import { conversationNotFound } from '../group-access.js';

const USER_ID = /^[0-9a-f]{24}$/;
/** Most users one contacts lookup names (the gateways batch up to this many). */
export const CONTACTS_BATCH_MAX = 200;

/**
 * Routes for the gateways, which have no database: a group's members (who may type, and to
 * whom) and users' contacts (who sees their presence). A service token only: a user token is
 * a 403, since these name members of conversations the caller may not be in.
 */
export function internalRouter(deps: { conversations: ConversationsRepository; contactsOf: ContactsOf; requireAuth: Middleware }): Router {
  const router = new Router({ prefix: '/internal' });
  const serviceOnly: Middleware = (ctx, next) => {
    if (!ctx.state.auth?.service) throw forbidden('a service token is required');
    return next();
  };

  router.post('/contacts', deps.requireAuth, serviceOnly, async (ctx) => {
    const { userIds } = jsonBody(ctx);
    if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > CONTACTS_BATCH_MAX || !userIds.every((id) => typeof id === 'string' && USER_ID.test(id))) {
      throw invalidRequest(`userIds must be an array of 1 to ${CONTACTS_BATCH_MAX} user ids`);
    }
    const found = await deps.contactsOf([...new Set(userIds as string[])]);
    ctx.body = { contacts: Object.fromEntries([...found].map(([id, set]) => [id, [...set]])) };
  });

  router.get('/conversations/:id/members', deps.requireAuth, serviceOnly, async (ctx) => {
    const ref = parseConversationId(ctx.params.id);
    if (ref?.type !== 'group') throw conversationNotFound();
    const members = await deps.conversations.members(ref.id);
    if (members.length === 0) throw conversationNotFound();
    ctx.body = { memberIds: members.map((m) => m.userId) };
  });

  return router;
}
