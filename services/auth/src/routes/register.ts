import type { Middleware } from 'koa';
import type { Logger } from '@chat/common/config';
import { jsonBody } from '@chat/common/koa';
import type { AuthMetrics } from '../auth-metrics.js';
import type { PasswordHasher } from '../passwords.js';
import { usernameTaken, type UsersRepository } from '../users-repo.js';
import { parseRegistration } from '../validation.js';

/** POST /register → 201 {id, username}; 409 username_taken; 400 invalid_request. */
export function registerRoute(deps: { users: UsersRepository; passwords: PasswordHasher; metrics: AuthMetrics; logger: Logger }): Middleware {
  return async (ctx) => {
    const { username, password } = parseRegistration(jsonBody(ctx));
    // Saves a bcrypt run for the common case; the unique index still decides a race.
    if (await deps.users.exists(username)) throw usernameTaken();
    const passwordHash = await deps.passwords.hash(password);
    const user = await deps.users.create({ username, passwordHash });
    deps.metrics.registrations.inc();
    deps.logger.info({ userId: user.id, username: user.username }, 'user registered');
    ctx.status = 201;
    ctx.body = { id: user.id, username: user.username };
  };
}
