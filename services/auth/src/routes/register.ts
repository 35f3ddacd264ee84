import type { Context, Middleware } from 'koa';
import type { Logger } from '@chat/common/config';
import { jsonBody } from '@chat/common/koa';
import type { AddressRateLimiter } from '../address-rate-limiter.js';
import type { AuthMetrics } from '../auth-metrics.js';
import type { BcryptCapacity } from '../bcrypt-capacity.js';
import type { PasswordHasher } from '../passwords.js';
import { usernameTaken, type UsersRepository } from '../users-repo.js';
import { parseRegistration } from '../validation.js';

export interface RegisterDeps {
  users: UsersRepository;
  passwords: PasswordHasher;
  addressOf: (ctx: Context) => string;
  /** Logins and registrations per client address (this process). */
  addressAttempts: AddressRateLimiter;
  /** Registrations per client address (this process). */
  addressRegistrations: AddressRateLimiter;
  bcrypt: BcryptCapacity;
  metrics: AuthMetrics;
  logger: Logger;
}

/**
 * POST /register → 201 {id, username}; 409 username_taken; 400 invalid_request; 429
 * too_many_requests when the client address has registered or tried too much; 503 unavailable
 * when the bcrypt capacity is full. The cheap checks come first: the body, then the address's
 * rates, then a place in the bcrypt capacity, then the database.
 */
export function registerRoute(deps: RegisterDeps): Middleware {
  return async (ctx) => {
    const { username, password } = parseRegistration(jsonBody(ctx));
    const address = deps.addressOf(ctx);
    deps.addressRegistrations.take(address);
    deps.addressAttempts.take(address);
    const bcrypt = deps.bcrypt.reserve();
    try {
      // Saves a bcrypt run for the common case; the unique index still decides a race.
      if (await deps.users.exists(username)) throw usernameTaken();
      const passwordHash = await bcrypt.run(() => deps.passwords.hash(password));
      const user = await deps.users.create({ username, passwordHash });
      deps.metrics.registrations.inc();
      deps.logger.info({ userId: user.id, username: user.username }, 'user registered');
      ctx.status = 201;
      ctx.body = { id: user.id, username: user.username };
    } finally {
      bcrypt.release();
    }
  };
}
