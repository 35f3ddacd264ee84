import type Koa from 'koa';
import type { Context } from 'koa';
import Router from '@koa/router';
import { clientAddress, type Lifecycle, type Logger, type ServiceMetrics } from '@chat/common/config';
import { createServiceTokenVerifier } from '@chat/common/jwt';
import { createKoaApp, healthRouter, koaAdmission, koaRequireAuth, type Admission, type ReadinessCheck } from '@chat/common/koa';
import { koaDatabaseGate, koaDatabaseUnavailable, type DatabaseOutage } from '@chat/common/mongo';
import { createAddressRateLimiter } from './address-rate-limiter.js';
import { createAuthMetrics } from './auth-metrics.js';
import { createBcryptCapacity } from './bcrypt-capacity.js';
import type { SigningKeySet } from './keys.js';
import type { LoginLimiter } from './login-limiter.js';
import type { PasswordHasher } from './passwords.js';
import { jwksRoute } from './routes/jwks.js';
import { loginRoute } from './routes/login.js';
import { registerRoute } from './routes/register.js';
import { userLookupRoute } from './routes/user-lookup.js';
import { createLocalTokenVerifier, createTokenIssuer } from './tokens.js';
import type { UsersRepository } from './users-repo.js';

export interface AuthAppConfig {
  issuer: string;
  audience: string;
  tokenTtlSeconds: number;
  bodyLimitBytes: number;
  serviceTokenSecret: string;
  /** Exact origins of browser pages allowed to call cross-origin (CORS_ORIGINS); empty: none. */
  corsOrigins: readonly string[];
  /** X-Forwarded-For entries to believe: the proxies we run in front of Auth (TRUST_PROXY_HOPS). */
  trustProxyHops: number;
  /** ADDRESS_ATTEMPTS_PER_MINUTE and ADDRESS_REGISTRATIONS_PER_HOUR. */
  addressAttemptsPerMinute: number;
  addressRegistrationsPerHour: number;
  /** BCRYPT_MAX_CONCURRENT and BCRYPT_MAX_QUEUED. */
  bcryptMaxConcurrent: number;
  bcryptMaxQueued: number;
}

export interface AuthAppDeps {
  config: AuthAppConfig;
  users: UsersRepository;
  limiter: LoginLimiter;
  passwords: PasswordHasher;
  keys: SigningKeySet;
  logger: Logger;
  metrics: ServiceMetrics;
  lifecycle: Lifecycle;
  /** The database's outage state: while it is known, every database-backed route answers 503 at once. */
  outage?: DatabaseOutage;
  /** The bound on requests doing database work (admission.ts): past it, and past its wait budget, 503 at once. */
  admission?: Admission;
  /** Readiness checks by name (the database ping); draining is always checked. */
  readiness: Record<string, ReadinessCheck>;
}

/** The Auth HTTP app, built from its dependencies so tests and index.ts wire it the same way. */
export function createAuthApp(deps: AuthAppDeps): Koa {
  const { config, logger } = deps;
  const authMetrics = createAuthMetrics(deps.metrics.registry);
  const app = createKoaApp({ logger, metrics: deps.metrics, bodyLimitBytes: config.bodyLimitBytes, corsOrigins: config.corsOrigins });
  app.use(koaDatabaseUnavailable(logger, 'user', deps.outage));

  const health = healthRouter({ lifecycle: deps.lifecycle, checks: deps.readiness });
  app.use(health.routes()).use(health.allowedMethods());

  const verifyUser = createLocalTokenVerifier(deps.keys, { issuer: config.issuer, audience: config.audience });
  const verifyService = createServiceTokenVerifier(config.serviceTokenSecret);
  const issueToken = createTokenIssuer(deps.keys, { issuer: config.issuer, audience: config.audience, ttlSeconds: config.tokenTtlSeconds });

  // The bounds on unauthenticated bcrypt work live in this process's memory: they guard its CPU.
  const addressOf = (ctx: Context) => clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], config.trustProxyHops);
  const addressAttempts = createAddressRateLimiter({
    limit: config.addressAttemptsPerMinute,
    windowMs: 60_000,
    what: 'login and registration attempts',
    onRefused: () => authMetrics.limitRefusals.inc({ limit: 'address_attempts' }),
  });
  const addressRegistrations = createAddressRateLimiter({
    limit: config.addressRegistrationsPerHour,
    windowMs: 3_600_000,
    what: 'registrations',
    onRefused: () => authMetrics.limitRefusals.inc({ limit: 'address_registrations' }),
  });
  const bcrypt = createBcryptCapacity({
    maxConcurrent: config.bcryptMaxConcurrent,
    maxQueued: config.bcryptMaxQueued,
    onRefused: () => authMetrics.limitRefusals.inc({ limit: 'bcrypt_capacity' }),
  });

  // Register, login and the user lookup read the database: a known outage answers 503 at once,
  // then the request waits its turn for an admission slot (or gets 503). The JWKS never waits.
  const guards = [deps.outage && koaDatabaseGate(deps.outage), deps.admission && koaAdmission(deps.admission)].filter((m): m is Koa.Middleware => m !== undefined);
  const router = new Router();
  router.post('/register', ...guards, registerRoute({ users: deps.users, passwords: deps.passwords, addressOf, addressAttempts, addressRegistrations, bcrypt, metrics: authMetrics, logger }));
  router.post('/login', ...guards, loginRoute({ users: deps.users, passwords: deps.passwords, limiter: deps.limiter, addressOf, addressAttempts, bcrypt, issueToken, metrics: authMetrics, logger }));
  router.get('/users/:username', koaRequireAuth(verifyUser, verifyService), ...guards, userLookupRoute({ users: deps.users }));
  router.get('/.well-known/jwks.json', jwksRoute(deps.keys));
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
