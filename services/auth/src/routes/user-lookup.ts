import type { RouterMiddleware } from '@koa/router';
import { isUsername, notFound } from '@chat/common/contracts';
import type { UsersRepository } from '../users-repo.js';

const userNotFound = () => notFound('user_not_found', 'no such user');

/**
 * GET /users/:username → 200 {id, username} (ASCII letter case ignored, registered spelling),
 * 404 user_not_found. A name outside the username rule is a 404 too, never folded onto another
 * (the Kelvin sign is not "k"): it cannot exist, and the user directory in @chat/common treats
 * only 404 as "no such user".
 */
export function userLookupRoute(deps: { users: UsersRepository }): RouterMiddleware {
  return async (ctx) => {
    const username = ctx.params.username ?? '';
    if (!isUsername(username)) throw userNotFound();
    const user = await deps.users.findByUsername(username);
    if (!user) throw userNotFound();
    ctx.body = { id: user.id, username: user.username };
  };
}
