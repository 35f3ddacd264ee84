import { baseConfigSpec, env, loadConfig, metricsPortSpec, serviceSecretSpec, type ConfigOf } from '@chat/common/config';
import { admissionConfigSpec, corsOriginsSpec } from '@chat/common/koa';
import { mongoUrlSpec } from '@chat/common/mongo';

export const authConfigSpec = {
  ...baseConfigSpec,
  PORT: env.int({ default: 5001, min: 0, max: 65_535 }),
  METRICS_PORT: metricsPortSpec(9101),
  SERVICE_TOKEN_SECRET: serviceSecretSpec(),
  /** Browser pages (exact origins) allowed to call this API cross-origin; empty: no CORS headers. */
  CORS_ORIGINS: corsOriginsSpec(),
  MONGO_URL: mongoUrlSpec(),
  MONGO_DB: env.string({ default: 'chat_auth' }),
  /** How long an operation waits for a reachable server before the request gets a 503. */
  MONGO_TIMEOUT_MS: env.int({ default: 5_000, min: 100 }),
  /** Admission control: at most this many requests do database work at once; a request that cannot start within ADMISSION_MAX_WAIT_MS gets 503. */
  ...admissionConfigSpec(32),
  JWT_PRIVATE_KEY: env.optionalString({ doc: 'ES256 (P-256) signing key: PKCS#8 PEM or JWK JSON' }),
  JWT_PREVIOUS_PUBLIC_KEY: env.optionalString({ doc: 'the key before the last rotation, still published in the JWKS' }),
  JWT_TTL_SECONDS: env.int({ default: 3600, min: 1 }),
  BCRYPT_COST: env.int({ default: 12, min: 4, max: 31 }),
  /** Hashes this process runs at once; more wait (libuv's thread pool has 4 threads by default). */
  BCRYPT_MAX_CONCURRENT: env.int({ default: 4, min: 1 }),
  /** Requests that may wait for a hash; beyond them, 503 at once instead of a growing queue. */
  BCRYPT_MAX_QUEUED: env.int({ default: 32, min: 0 }),
  /** X-Forwarded-For entries to believe: how many proxies we run in front of Auth (0: none, the TCP peer is the client). */
  TRUST_PROXY_HOPS: env.int({ default: 0, min: 0, max: 10 }),
  /** Logins and registrations one client address may make per minute, per process (a burst of this many, then this rate). */
  ADDRESS_ATTEMPTS_PER_MINUTE: env.int({ default: 30, min: 1 }),
  /** Registrations one client address may make per hour, per process. */
  ADDRESS_REGISTRATIONS_PER_HOUR: env.int({ default: 10, min: 1 }),
  /** Failed logins for one username from one client address, in the window, before 429. */
  LOGIN_MAX_FAILURES: env.int({ default: 10, min: 1 }),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int({ default: 300, min: 1 }),
  /** Failed logins for one username from addresses it never logged in from, before each further one waits. */
  LOGIN_DELAY_AFTER_FAILURES: env.int({ default: 10, min: 1 }),
  /** The longest such wait (it doubles from 1 s). */
  LOGIN_DELAY_MAX_SECONDS: env.int({ default: 300, min: 1 }),
  /** How long an address that logged in to a name stays exempt from that name's delays. */
  LOGIN_KNOWN_ADDRESS_DAYS: env.int({ default: 30, min: 1 }),
};

export type AuthConfig = ConfigOf<typeof authConfigSpec>;

export function loadAuthConfig(source: Record<string, string | undefined> = process.env): Readonly<AuthConfig> {
  return loadConfig(authConfigSpec, source);
}
