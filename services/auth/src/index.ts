import { createLogger, createMetrics, Lifecycle, runService, serveMetrics, sleep } from '@chat/common/config';
import { createMeasuredAdmission, serveKoa } from '@chat/common/koa';
import { connectWithRetry, createMongoClient, DatabaseOutage, databaseReadiness } from '@chat/common/mongo';
import { createAuthApp } from './app.js';
import { loadAuthConfig, type AuthConfig } from './config.js';
import { loadSigningKeys } from './keys.js';
import { createLoginLimiter } from './login-limiter.js';
import { createPasswordHasher } from './passwords.js';
import { createUsersRepository } from './users-repo.js';

const PRUNE_EVERY_MS = 60_000;
/** How often a known database outage is probed with a ping (as Chat). */
const DATABASE_PROBE_INTERVAL_MS = 250;

async function main(config: Readonly<AuthConfig>): Promise<void> {
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL });
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_GRACE_MS);
  lifecycle.installSignalHandlers();

  const keys = await loadSigningKeys({
    privateKey: config.JWT_PRIVATE_KEY,
    previousPublicKey: config.JWT_PREVIOUS_PUBLIC_KEY,
    production: config.NODE_ENV === 'production',
    logger,
  });

  const client = createMongoClient(config.MONGO_URL, 'chat-auth', config.MONGO_TIMEOUT_MS);
  const db = client.db(config.MONGO_DB);
  const users = createUsersRepository(db);
  const limiter = createLoginLimiter(db, {
    maxFailures: config.LOGIN_MAX_FAILURES,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
    delayAfterFailures: config.LOGIN_DELAY_AFTER_FAILURES,
    delayMaxSeconds: config.LOGIN_DELAY_MAX_SECONDS,
    knownAddressDays: config.LOGIN_KNOWN_ADDRESS_DAYS,
  });

  // Serve (liveness) even while the database is down; readiness says so until it is up, and
  // requests that need it get 503 meanwhile.
  void connectWithRetry(client, { logger, retryMs: 1_000, stopped: () => lifecycle.closing })
    .then(async (connected) => {
      if (!connected) return;
      await Promise.all([users.ensureIndexes(), limiter.ensureIndexes()]);
      logger.info({ db: config.MONGO_DB }, 'database connected, indexes ready');
    })
    .catch((err: unknown) => logger.warn({ err }, 'creating indexes failed; retried on first use'));

  const metrics = createMetrics('auth');
  // Known outage: database-backed requests get 503 at once until a ping answers (mongo-outage.ts).
  const outage = new DatabaseOutage({ probe: () => db.command({ ping: 1 }), probeIntervalMs: DATABASE_PROBE_INTERVAL_MS, logger });
  // Admission: at most ADMISSION_MAX_IN_FLIGHT requests do database work at once (admission.ts).
  const admission = createMeasuredAdmission(metrics.registry, 'auth', { maxInFlight: config.ADMISSION_MAX_IN_FLIGHT, maxWaitMs: config.ADMISSION_MAX_WAIT_MS });
  const app = createAuthApp({
    config: {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      tokenTtlSeconds: config.JWT_TTL_SECONDS,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      serviceTokenSecret: config.SERVICE_TOKEN_SECRET,
      corsOrigins: config.CORS_ORIGINS,
      trustProxyHops: config.TRUST_PROXY_HOPS,
      addressAttemptsPerMinute: config.ADDRESS_ATTEMPTS_PER_MINUTE,
      addressRegistrationsPerHour: config.ADDRESS_REGISTRATIONS_PER_HOUR,
      bcryptMaxConcurrent: config.BCRYPT_MAX_CONCURRENT,
      bcryptMaxQueued: config.BCRYPT_MAX_QUEUED,
    },
    users,
    limiter,
    passwords: createPasswordHasher({ cost: config.BCRYPT_COST }),
    keys,
    logger,
    metrics,
    lifecycle,
    outage,
    admission,
    readiness: {
      // Within 1 s, under the chart's 2 s probe timeout: an outage shows as a 503 naming the
      // check rather than as a probe timeout.
      database: databaseReadiness(db, () => Promise.all([users.ensureIndexes(), limiter.ensureIndexes()]), 1_000, outage),
    },
  });

  const sweeper = setInterval(() => {
    limiter.prune().then(
      (n) => n > 0 && logger.debug({ deleted: n }, 'pruned expired login limit records'),
      (err: unknown) => logger.warn({ err }, 'pruning login limit records failed'),
    );
  }, PRUNE_EVERY_MS);
  sweeper.unref();

  // Shutdown steps run in order: /readyz fails as soon as `closing` is set, then (optionally)
  // we keep serving while load balancers notice, then the listener drains (waiting requests get
  // 503 at once, running ones finish or get 503 at the deadline), then the database.
  if (config.SHUTDOWN_DELAY_MS > 0) lifecycle.onShutdown('readiness-propagation', () => sleep(config.SHUTDOWN_DELAY_MS));
  await serveMetrics({ port: config.METRICS_PORT, metrics, logger });
  await serveKoa(app, { port: config.PORT, lifecycle, logger, drainMs: Math.max(0, config.SHUTDOWN_GRACE_MS - config.SHUTDOWN_DELAY_MS - 1_000), admission });
  lifecycle.onShutdown('sweeper', () => clearInterval(sweeper));
  lifecycle.onShutdown('mongo', () => (outage.stop(), client.close()));
}

runService('auth', loadAuthConfig, main);
