import { baseConfigSpec, env, loadConfig, serviceSecretSpec, type ConfigOf, type VarSpec } from '@chat/common';

/**
 * A MongoDB connection string. `env.url` cannot be used: WHATWG URL parsing rejects the
 * multi-host form (`mongodb://a:27017,b:27017/?replicaSet=rs0`) that replica sets need.
 */
function mongoUrl(): VarSpec<string> {
  return {
    doc: 'MongoDB connection string, e.g. mongodb://127.0.0.1:27017',
    parse(raw) {
      if (!/^mongodb(\+srv)?:\/\/\S+$/.test(raw.trim())) throw new Error('must be a mongodb:// or mongodb+srv:// connection string');
      return raw.trim();
    },
  };
}

export const authConfigSpec = {
  ...baseConfigSpec,
  PORT: env.int({ default: 5001, min: 0, max: 65_535 }),
  SERVICE_TOKEN_SECRET: serviceSecretSpec(),
  MONGO_URL: mongoUrl(),
  MONGO_DB: env.string({ default: 'chat_auth' }),
  /** How long an operation waits for a reachable server before the request gets a 503. */
  MONGO_TIMEOUT_MS: env.int({ default: 5_000, min: 100 }),
  JWT_PRIVATE_KEY: env.optionalString({ doc: 'ES256 (P-256) signing key: PKCS#8 PEM or JWK JSON' }),
  JWT_PREVIOUS_PUBLIC_KEY: env.optionalString({ doc: 'the key before the last rotation, still published in the JWKS' }),
  JWT_TTL_SECONDS: env.int({ default: 3600, min: 1 }),
  BCRYPT_COST: env.int({ default: 12, min: 4, max: 31 }),
  LOGIN_MAX_FAILURES: env.int({ default: 10, min: 1 }),
  LOGIN_FAILURE_WINDOW_SECONDS: env.int({ default: 300, min: 1 }),
  /**
   * On SIGTERM, how long to keep serving (with /readyz already failing) before the listener
   * closes, so load balancers see the pod leave before connections are refused.
   */
  SHUTDOWN_DELAY_MS: env.int({ default: 0, min: 0 }),
};

export type AuthConfig = ConfigOf<typeof authConfigSpec>;

export function loadAuthConfig(source: Record<string, string | undefined> = process.env): Readonly<AuthConfig> {
  return loadConfig(authConfigSpec, source);
}
