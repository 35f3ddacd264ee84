import { baseConfigSpec, env, loadConfig, metricsPortSpec, serviceSecretSpec, type ConfigOf } from '@chat/common/config';
import { corsOriginsSpec } from '@chat/common/koa';
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
  JWT_PRIVATE_KEY: env.optionalString({ doc: 'ES256 (P-256) signing key: PKCS#8 PEM or JWK JSON' }),
  JWT_PREVIOUS_PUBLIC_KEY: env.optionalString({ doc: 'the key before the last rotation, still published in the JWKS' }),
  JWT_TTL_SECONDS: env.int({ default: 3600, min: 1 }),
  BCRYPT_COST: env.int({ default: 12, min: 4, max: 31 }),
  LOGIN_MAX_FAILURES: env.int({ default: 10, min: 1 }),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int({ default: 300, min: 1 }),
};

export type AuthConfig = ConfigOf<typeof authConfigSpec>;

export function loadAuthConfig(source: Record<string, string | undefined> = process.env): Readonly<AuthConfig> {
  return loadConfig(authConfigSpec, source);
}
