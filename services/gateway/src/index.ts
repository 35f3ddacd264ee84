/**
 * Wiring only: configuration, logger, metrics (served on METRICS_PORT), the token verifiers and
 * user directory, signals.
 * Everything with behaviour lives in app.ts and the modules it assembles.
 */
import { createLogger, Lifecycle, runService, serveMetrics } from '@chat/common/config';
import { createServiceTokenSource } from '@chat/common/jwt';
import { createUserDirectory } from '@chat/common/user-directory';
import { createGateway } from './app.js';
import { loadGatewayConfig, type GatewayConfig } from './config.js';
import { createGatewayMetrics } from './metrics.js';
import { createInMemoryTokenVerifier } from './in-memory-token-verifier.js';

async function main(config: Readonly<GatewayConfig>): Promise<void> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const metrics = createGatewayMetrics();
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_GRACE_MS);
  const jwks = {
    jwksUrl: `${config.AUTH_URL}/.well-known/jwks.json`,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  };

  // Upgrades are verified on the spot with Auth's keys held in memory; a key that is not known
  // here yet is fetched into the same key set (one cache, one cooldown), and the upgrade waits.
  const inMemoryVerifier = createInMemoryTokenVerifier({ ...jwks, logger, cooldownMs: config.JWKS_COOLDOWN_MS });
  inMemoryVerifier.start();
  const verifyUser = (token: string) => inMemoryVerifier.verifyOrFetch(token);

  // Events arrive with no user attached, so Auth is asked as a service (HS256 service token).
  const directory = createUserDirectory({
    authUrl: config.AUTH_URL,
    credential: createServiceTokenSource('gateway', config.SERVICE_TOKEN_SECRET),
    ttlMs: config.USER_CACHE_TTL_MS,
    max: config.USER_CACHE_MAX,
    onHit: () => metrics.userCacheHits.inc(),
    onMiss: () => metrics.userCacheMisses.inc(),
  });

  const gateway = createGateway({ config, logger, metrics, lifecycle, verifyUser, inMemoryVerifier, directory });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));

  await serveMetrics({ port: config.METRICS_PORT, metrics, logger });
  await gateway.listen(config.PORT);
  gateway.startConsuming();
  lifecycle.onShutdown('gateway', () => gateway.drain());
  lifecycle.installSignalHandlers();
}

runService('gateway', () => loadGatewayConfig(), main);
