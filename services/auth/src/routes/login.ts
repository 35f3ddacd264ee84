import type { Context, Middleware } from 'koa';
import { isUsername, RequestError, usernameKey } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import { jsonBody } from '@chat/common/koa';
import type { AddressRateLimiter } from '../address-rate-limiter.js';
import type { AuthMetrics } from '../auth-metrics.js';
import type { BcryptCapacity } from '../bcrypt-capacity.js';
import type { LoginAttempt, LoginLimiter } from '../login-limiter.js';
import type { PasswordHasher } from '../passwords.js';
import type { IssuedToken } from '../tokens.js';
import type { UsersRepository } from '../users-repo.js';
import { parseLogin } from '../validation.js';

/** One answer for an unknown name and a wrong password, byte for byte. */
const invalidCredentials = () => new RequestError(401, 'invalid_credentials', 'invalid username or password');

export interface LoginDeps {
  users: UsersRepository;
  passwords: PasswordHasher;
  limiter: LoginLimiter;
  /** The client address the per-address limits count (client-address.ts, TRUST_PROXY_HOPS). */
  addressOf: (ctx: Context) => string;
  /** Logins and registrations per client address (this process). */
  addressAttempts: AddressRateLimiter;
  bcrypt: BcryptCapacity;
  issueToken: (user: { id: string; username: string }) => Promise<IssuedToken>;
  metrics: AuthMetrics;
  logger: Logger;
}

/**
 * POST /login → 200 {token, tokenType, expiresIn, user}. An unknown user goes through the
 * same steps as a known one (the failure is claimed, a bcrypt comparison runs against a dummy
 * hash), so neither the answer nor its timing tells whether the name exists.
 *
 * The cheap refusals come first, before any database work: the client address's rate (429
 * too_many_requests), then a place in the bcrypt capacity (503 unavailable), then the failure
 * limits of the name (429 too_many_attempts).
 */
export function loginRoute(deps: LoginDeps): Middleware {
  return async (ctx) => {
    const { username, password } = parseLogin(jsonBody(ctx));
    const address = deps.addressOf(ctx);
    deps.addressAttempts.take(address);
    const bcrypt = deps.bcrypt.reserve();
    try {
      // A name outside the rules was never registered: there is nothing to protect and no record
      // to keep, but it still costs the bcrypt work (and the address's rate) that a real one does.
      let attempt: LoginAttempt | undefined;
      if (isUsername(username)) {
        try {
          attempt = await deps.limiter.begin(usernameKey(username), address);
        } catch (err) {
          if (err instanceof RequestError && err.status === 429) {
            deps.metrics.loginAttempts.inc({ result: 'rate_limited' });
            deps.logger.info({ username, address }, 'login refused: too many failed attempts');
          }
          throw err;
        }
      }
      const user = attempt ? await deps.users.findByUsername(username) : null;
      const ok = await bcrypt.run(() => (user ? deps.passwords.verify(password, user.passwordHash) : deps.passwords.verifyAgainstDummy(password)));
      if (!user || !ok) {
        await attempt?.failed();
        deps.metrics.loginAttempts.inc({ result: 'invalid_credentials' });
        throw invalidCredentials();
      }
      await attempt?.succeeded();
      if (deps.passwords.needsRehash(user.passwordHash)) {
        // The cost was changed since this hash was made; upgrade it while we have the password.
        // Best effort: the login itself has succeeded either way.
        await bcrypt
          .run(() => deps.passwords.hash(password))
          .then((hash) => deps.users.updatePasswordHash(user.username, hash))
          .catch((err: unknown) => deps.logger.warn({ err, userId: user.id }, 'password rehash failed'));
      }
      const { token, expiresIn } = await deps.issueToken({ id: user.id, username: user.username });
      deps.metrics.loginAttempts.inc({ result: 'success' });
      ctx.body = { token, tokenType: 'Bearer', expiresIn, user: { id: user.id, username: user.username } };
    } finally {
      bcrypt.release();
    }
  };
}
