import { baseConfigSpec, env, loadConfig, metricsPortSpec, presenceConfigSpec, serviceSecretSpec, type ConfigOf } from '@chat/common/config';

/**
 * Gateway configuration. The first block is the shared env contract (README, Helm chart);
 * the second holds gateway-specific knobs, each with a default that suits production.
 */
export const gatewayConfigSpec = {
  ...baseConfigSpec,
  PORT: env.int({ default: 5003, min: 0, max: 65_535 }),
  METRICS_PORT: metricsPortSpec(9103),
  SERVICE_TOKEN_SECRET: serviceSecretSpec(),
  AMQP_URL: env.url({ default: 'amqp://guest:guest@127.0.0.1:5672', protocols: ['amqp', 'amqps'] }),
  AUTH_URL: env.url({ default: 'http://127.0.0.1:5001', protocols: ['http', 'https'] }),
  CHAT_URL: env.url({ default: 'http://127.0.0.1:5002', protocols: ['http', 'https'] }),
  POD_NAME: env.optionalString({ doc: 'names this process\'s broker queue; the hostname when unset' }),
  ALLOWED_ORIGINS: env.list({ default: [], doc: 'comma-separated Origin allowlist for upgrades; empty allows every origin' }),
  MAX_FRAMES_PER_SECOND: env.int({ default: 50, min: 1 }),
  REPLAY_LIMIT: env.int({ default: 1000, min: 1, doc: 'most messages a resume replays before answering resync_required' }),
  TYPING_MAX_MEMBERS: env.int({ default: 100, min: 2, doc: 'groups with more members than this get no typing frames' }),
  ...presenceConfigSpec,
  /**
   * Open sockets one user may hold on this process; the next upgrade gets 429. A user's devices
   * and tabs each hold one (the system tests hold 20 per user, the bench 4); 0 turns it off.
   */
  MAX_SOCKETS_PER_USER: env.int({ default: 32, min: 0, max: 1_000_000 }),
  /**
   * Open sockets one client address (an IPv6 client: its /64) may hold on this process; the next
   * upgrade gets 429. A quarter of a process's 20,000 file descriptors: no single host (or NAT, or
   * proxy that is not trusted below) can take a whole pod. The bench holds about 1,250 per source
   * address, the system tests 2,000 from 127.0.0.1. 0 turns it off.
   */
  MAX_SOCKETS_PER_ADDRESS: env.int({ default: 5000, min: 0, max: 1_000_000 }),
  /**
   * Proxies of ours in front of the gateway that append the client's address to
   * X-Forwarded-For (an ingress: 1). 0 ignores the header, which a client can write itself.
   */
  TRUST_PROXY_HOPS: env.int({ default: 0, min: 0, max: 10 }),

  /** Largest client frame accepted; a bigger one closes the socket with 1009. */
  MAX_FRAME_BYTES: env.int({ default: 16 * 1024, min: 64, max: 1024 * 1024 }),
  /** Bytes a socket may have queued for a slow reader before it is closed with 1013. */
  MAX_BACKPRESSURE_BYTES: env.int({ default: 1024 * 1024, min: 1024 }),
  /** uWS idle timeout: a socket silent this long is dropped. Automatic pings keep live peers busy. */
  IDLE_TIMEOUT_SECONDS: env.int({ default: 60, min: 8, max: 960 }),
  /**
   * How long live messages are held after connect while the gateway waits for a possible
   * `resume` first frame (any first frame, e.g. a ping, ends the wait). 0 disables the hold.
   */
  RESUME_WINDOW_MS: env.int({ default: 500, min: 0, max: 10_000 }),
  /** Page size for replay reads from Chat's sync endpoint (Chat accepts 1..500). */
  REPLAY_PAGE_SIZE: env.int({ default: 500, min: 1, max: 500 }),
  /** Replays (sync reads from Chat) in flight at once, so a reconnect storm cannot swamp Chat. */
  REPLAY_CONCURRENCY: env.int({ default: 32, min: 1, max: 1024 }),
  /** Unacked broker deliveries this process holds at once. */
  BROKER_PREFETCH: env.int({ default: 1000, min: 1, max: 65_535 }),
  USER_CACHE_TTL_MS: env.int({ default: 60_000, min: 0 }),
  USER_CACHE_MAX: env.int({ default: 50_000, min: 1 }),
  /** Minimum time between two JWKS refetches caused by an unknown key id. */
  JWKS_COOLDOWN_MS: env.int({ default: 30_000, min: 0 }),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;

export function loadGatewayConfig(source: Record<string, string | undefined> = process.env): Readonly<GatewayConfig> {
  return loadConfig(gatewayConfigSpec, source);
}
