import { baseConfigSpec, env, loadConfig, metricsPortSpec, presenceConfigSpec, serviceSecretSpec, type ConfigOf } from '@chat/common/config';
import { admissionConfigSpec, corsOriginsSpec } from '@chat/common/koa';
import { mongoUrlSpec } from '@chat/common/mongo';

export const chatConfigSpec = {
  ...baseConfigSpec,
  PORT: env.int({ default: 5002, min: 0, max: 65_535 }),
  METRICS_PORT: metricsPortSpec(9102),
  SERVICE_TOKEN_SECRET: serviceSecretSpec(),
  /** Browser pages (exact origins) allowed to call this API cross-origin; empty: no CORS headers. */
  CORS_ORIGINS: corsOriginsSpec(),
  MONGO_URL: mongoUrlSpec(),
  MONGO_DB: env.string({ default: 'chat' }),
  /** How long an operation waits for a reachable server before the request gets a 503. */
  MONGO_TIMEOUT_MS: env.int({ default: 2_000, min: 100 }),
  /**
   * Admission control: at most this many requests do database work at once; a request that cannot
   * start within ADMISSION_MAX_WAIT_MS gets 503. 32, not 64: in the overload test on 2026-12-01
   * (600-1,646 sends/s offered), 64 gave a slowest answer over 1 s in 6 of 8 runs, 32 in none of
   * 5 (535-890 ms) for a little fewer 201s per second (391-524 against 417-606).
   */
  ...admissionConfigSpec(32),
  /**
   * The answer deadline of a retry-safe request (a read, a send with a clientMsgId): still running
   * this long after it arrived, it gets 503 with Retry-After while its work goes on. 700 ms: the
   * issue 17 bound is 1 s at the client, and under overload Chat's event loop lagged up to 355 ms
   * before a request reached it.
   */
  ADMISSION_ANSWER_WITHIN_MS: env.int({ default: 700, min: 0, max: 60_000, doc: 'a read, or a send with a clientMsgId, still running this long after it arrived gets 503 with Retry-After while its work goes on; 0: never' }),
  AMQP_URL: env.url({ protocols: ['amqp', 'amqps'], doc: 'RabbitMQ URL, e.g. amqp://guest:guest@127.0.0.1:5672' }),
  AUTH_URL: env.url({ default: 'http://127.0.0.1:5001', protocols: ['http', 'https'] }),
  /** How long a resolved recipient (username → id) is cached. */
  USER_CACHE_TTL_MS: env.int({ default: 60_000, min: 0 }),
  /** An unsent message older than this is republished by the relay (the send path normally publishes it at once). */
  OUTBOX_RELAY_DELAY_MS: env.int({ default: 2_000, min: 0 }),
  /** How often the relay scans for unpublished messages and refreshes chat_outbox_backlog. */
  OUTBOX_RELAY_INTERVAL_MS: env.int({ default: 1_000, min: 50 }),
  /** Most events in one confirmed publish batch (send path and relay). */
  PUBLISH_BATCH_MAX: env.int({ default: 500, min: 1, max: 10_000 }),
  /** A batch whose confirms have not all arrived after this is given up; its messages stay unpublished and the relay retries them. */
  PUBLISH_CONFIRM_TIMEOUT_MS: env.int({ default: 10_000, min: 100 }),
  /** The most members a group may have, its owner included (creating or adding beyond it is a 400). */
  MAX_GROUP_MEMBERS: env.int({ default: 1_000, min: 2, max: 10_000 }),
  /**
   * Read receipts: a conversation with more members than this gets no live read signals, and its
   * receipts answer counts only (marks are still stored and counted).
   */
  RECEIPTS_MAX_MEMBERS: env.int({ default: 100, min: 2, max: 10_000 }),
  /** How often the conversation list's order and last messages are written (they may lag by this much). */
  CONVERSATION_ACTIVITY_INTERVAL_MS: env.int({ default: 1_000, min: 10 }),
  /** Presence timing: the gateways' values (GET /presence answers from the same table they run). */
  ...presenceConfigSpec,
  /**
   * Test hook, honoured only when NODE_ENV=test: `after_insert` or `after_timeline` makes the
   * process exit right there, to prove the relay completes and publishes what a crash left.
   */
  CHAT_TEST_CRASH_POINT: env.optionalString(),
};

export type ChatConfig = ConfigOf<typeof chatConfigSpec>;

export function loadChatConfig(source: Record<string, string | undefined> = process.env): Readonly<ChatConfig> {
  return loadConfig(chatConfigSpec, source);
}
