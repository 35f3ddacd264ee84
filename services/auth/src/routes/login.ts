import type { Middleware } from 'koa';
import { RequestError } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import { jsonBody } from '@chat/common/koa';
import type { AuthMetrics } from '../auth-metrics.js';
import type { LoginAttempt, LoginLimiter } from '../login-limiter.js';
import type { PasswordHasher } from '../passwords.js';
import type { IssuedToken } from '../tokens.js';
import type { UsersRepository } from '../users-repo.js';
import { isValidUsername, parseLogin, usernameKey } from '../validation.js';

/** One answer for an unknown name and a wrong password, byte for byte. */
const invalidCredentials = () => new RequestError(401, 'invalid_credentials', 'invalid username or password');

export interface LoginDeps {
  users: UsersRepository;
  passwords: PasswordHasher;
  limiter: LoginLimiter;
  issueToken: (user: { id: string; username: string }) => Promise<IssuedToken>;
  metrics: AuthMetrics;
  logger: Logger;
}

/**
 * POST /login → 200 {token, tokenType, expiresIn, user}. An unknown user goes through the
 * same steps as a known one (the attempt is recorded, a bcrypt comparison runs against a
 * dummy hash), so neither the answer nor its timing tells whether the name exists.
 */
export function loginRoute(deps: LoginDeps): Middleware {
  return async (ctx) => {
    const { username, password } = parseLogin(jsonBody(ctx));
    // A name outside the rules was never registered; it skips the limiter (nothing to protect)
    // but not the bcrypt work.
    let attempt: LoginAttempt | undefined;
    if (isValidUsername(username)) {
      try {
        attempt = await deps.limiter.begin(usernameKey(username));
      } catch (err) {
        if (err instanceof RequestError && err.status === 429) {
          deps.metrics.loginAttempts.inc({ result: 'rate_limited' });
          deps.logger.info({ username }, 'login refused: too many failed attempts');
        }
        throw err;
      }
    }
    const user = attempt ? await deps.users.findByUsername(username) : null;
    const ok = user ? await deps.passwords.verify(password, user.passwordHash) : await deps.passwords.verifyAgainstDummy(password);
    if (!user || !ok) {
      await attempt?.failed();
      deps.metrics.loginAttempts.inc({ result: 'invalid_credentials' });
      throw invalidCredentials();
    }
    await attempt?.succeeded();
    if (deps.passwords.needsRehash(user.passwordHash)) {
      // The cost was changed since this hash was made; upgrade it while we have the password.
      // Best effort: the login itself has succeeded either way.
      await deps.passwords
        .hash(password)
        .then((hash) => deps.users.updatePasswordHash(user.username, hash))
        .catch((err: unknown) => deps.logger.warn({ err, userId: user.id }, 'password rehash failed'));
    }
    const { token, expiresIn } = await deps.issueToken({ id: user.id, username: user.username });
    deps.metrics.loginAttempts.inc({ result: 'success' });
    ctx.body = { token, tokenType: 'Bearer', expiresIn, user: { id: user.id, username: user.username } };
  };
}
