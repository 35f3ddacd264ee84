/**
 * Configuration is read from the environment exactly once, at start, into a frozen typed
 * object. A missing or invalid variable throws a ConfigError naming it, so the process
 * stops before it serves anything with a half-valid configuration.
 */
import { USER_TOKEN_POLICY } from './token-policy.js';

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export interface VarSpec<T> {
  /** Parses the raw value; throws a message (string) describing what is wrong. */
  parse(raw: string, name: string): T;
  /** Used when the variable is unset or empty. Omit to make the variable required. */
  default?: T | (() => T);
  /** Short description shown in docs and errors. */
  doc?: string;
}

export type ConfigSpec = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends ConfigSpec> = { readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

export function loadConfig<S extends ConfigSpec>(spec: S, env: Env = process.env): Readonly<ConfigOf<S>> {
  const out: Record<string, unknown> = {};
  for (const [name, varSpec] of Object.entries(spec)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (!('default' in varSpec)) throw new ConfigError(name, `is required but not set${varSpec.doc ? ` (${varSpec.doc})` : ''}`);
      const d = varSpec.default;
      out[name] = typeof d === 'function' ? (d as () => unknown)() : d;
      continue;
    }
    try {
      out[name] = varSpec.parse(raw, name);
    } catch (err) {
      throw new ConfigError(name, err instanceof Error ? err.message : String(err));
    }
  }
  return Object.freeze(out) as Readonly<ConfigOf<S>>;
}

type Opts<T> = { default?: T | (() => T); doc?: string };

function spec<T>(parse: (raw: string, name: string) => T, opts: Opts<T>): VarSpec<T> {
  const s: VarSpec<T> = { parse };
  if ('default' in opts) s.default = opts.default as T | (() => T);
  if (opts.doc !== undefined) s.doc = opts.doc;
  return s;
}

export const env = {
  string: (opts: Opts<string> = {}) => spec((raw) => raw, opts),
  optionalString: (opts: { doc?: string } = {}) => spec<string | undefined>((raw) => raw, { ...opts, default: undefined }),
  int: (opts: Opts<number> & { min?: number; max?: number } = {}) =>
    spec((raw) => {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`must be >= ${opts.min}, got ${n}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`must be <= ${opts.max}, got ${n}`);
      return n;
    }, opts),
  bool: (opts: Opts<boolean> = {}) =>
    spec((raw) => {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error(`must be a boolean (true/false), got "${raw}"`);
    }, opts),
  url: (opts: Opts<string> & { protocols?: string[] } = {}) =>
    spec((raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new Error('must be a URL');
      }
      if (opts.protocols && !opts.protocols.includes(u.protocol.replace(/:$/, ''))) {
        throw new Error(`must use one of ${opts.protocols.join(', ')}://`);
      }
      return raw.replace(/\/+$/, '');
    }, opts),
  list: (opts: Opts<string[]> = {}) =>
    spec((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean), opts),
  oneOf: <T extends string>(values: readonly T[], opts: Opts<T> = {}) =>
    spec((raw) => {
      if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join('|')}, got "${raw}"`);
      return raw as T;
    }, opts),
};

/** Variables every service reads. */
export const baseConfigSpec = {
  NODE_ENV: env.string({ default: 'development' }),
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, { default: 'info' }),
  SHUTDOWN_GRACE_MS: env.int({ default: 10_000, min: 0, doc: 'drain budget on SIGTERM' }),
  /**
   * On SIGTERM, how long to keep serving with /readyz already failing before the listener
   * closes, so load balancers see the process leave first (in Kubernetes the preStop sleep does it).
   */
  SHUTDOWN_DELAY_MS: env.int({ default: 0, min: 0 }),
  BODY_LIMIT_BYTES: env.int({ default: 16 * 1024, min: 1 }),
  JWT_ISSUER: env.string({ default: USER_TOKEN_POLICY.issuer }),
  JWT_AUDIENCE: env.string({ default: USER_TOKEN_POLICY.audience }),
};

/**
 * Presence timing, read by every process that runs a presence table (gateways and Chat): they
 * must agree, or one would call a user offline while another still waits.
 */
export const presenceConfigSpec = {
  PRESENCE_GRACE_MS: env.int({ default: 5_000, min: 0, max: 600_000, doc: 'a user whose last socket closed stays online this long, so a reconnect to any pod does not flap' }),
  PRESENCE_TIMEOUT_MS: env.int({ default: 30_000, min: 1_000, max: 600_000, doc: 'a gateway pod not heard from this long is dead: its users go offline' }),
};

/** Pods report all their users this often; a pod silent for PRESENCE_TIMEOUT_MS is dead, so several beats fit in it. */
export const presenceBeatMs = (timeoutMs: number) => Math.min(10_000, Math.floor(timeoutMs / 3));

/**
 * SERVICE_TOKEN_SECRET signs service-to-service credentials. Outside production a fixed
 * development secret is used so `make up` works without setup; production must set it.
 */
export function serviceSecretSpec() {
  return spec(
    (raw) => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
    {
    doc: 'shared secret (>= 32 chars) for service-to-service tokens',
    default: () => {
      if (process.env.NODE_ENV === 'production') {
        throw new ConfigError('SERVICE_TOKEN_SECRET', 'is required in production');
      }
      return 'dev-only-service-token-secret-change-me-0123456789';
    },
  });
}
