import { ConfigError, createLogger, createMetrics, Lifecycle, presenceBeatMs, processQueueName, runService, serveMetrics, sleep } from '@chat/common/config';
import { cachingTokenVerifier, createJwtVerifier, createServiceTokenSource, createServiceTokenVerifier } from '@chat/common/jwt';
import { SignalBus } from '@chat/common/signal-bus';
import { createUserDirectory } from '@chat/common/user-directory';
import { createMeasuredAdmission, serveKoa } from '@chat/common/koa';
import { connectWithRetry, countRoundTrips, createMongoClient, DatabaseOutage, databaseReadiness, koaRoundTrips } from '@chat/common/mongo';
import { createChatApp } from './app.js';
import { createChatMetrics } from './chat-metrics.js';
import { loadChatConfig, type ChatConfig } from './config.js';
import { createContactsLookup } from './contacts.js';
import { ConversationActivity } from './conversation-activity.js';
import { createConversationsRepository } from './conversations-repo.js';
import { EventPublisher } from './event-publisher.js';
import { createGroups } from './groups.js';
import { createMessageWriter, type CrashPoint } from './message-writer.js';
import { createLastSeenRepository } from './last-seen-repo.js';
import { createMessagesRepository } from './messages-repo.js';
import { OutboxRelay } from './outbox-relay.js';
import { Presence } from './presence.js';
import { createReadMarksRepository } from './read-marks-repo.js';
import { createReceipts, type ReadSignals } from './receipts.js';
import { createSendMessage } from './send-message.js';
import { createTimeline } from './timeline.js';

/**
 * How often a known database outage is probed with a ping: how soon after the database answers
 * again requests are let through (plus the driver's own rediscovery, about 0.5 s).
 */
const DATABASE_PROBE_INTERVAL_MS = 250;

function testCrashPoint(config: Readonly<ChatConfig>): CrashPoint | undefined {
  const point = config.CHAT_TEST_CRASH_POINT;
  if (point === undefined || config.NODE_ENV !== 'test') return undefined;
  if (point !== 'after_insert' && point !== 'after_timeline') throw new ConfigError('CHAT_TEST_CRASH_POINT', 'must be after_insert or after_timeline');
  return point;
}

async function main(config: Readonly<ChatConfig>): Promise<void> {
  const logger = createLogger({ service: 'chat', level: config.LOG_LEVEL });
  const lifecycle = new Lifecycle(logger, config.SHUTDOWN_GRACE_MS);
  lifecycle.installSignalHandlers();
  const crashPoint = testCrashPoint(config);
  if (crashPoint) logger.warn({ crashPoint }, 'test crash hook armed');

  const client = createMongoClient(config.MONGO_URL, 'chat', config.MONGO_TIMEOUT_MS, { monitorCommands: true });
  countRoundTrips(client);
  const db = client.db(config.MONGO_DB);
  const metrics = createMetrics('chat');
  const chatMetrics = createChatMetrics(metrics.registry);
  // Known outage: database-backed requests get 503 at once until a ping answers (mongo-outage.ts).
  const outage = new DatabaseOutage({
    probe: () => db.command({ ping: 1 }),
    probeIntervalMs: DATABASE_PROBE_INTERVAL_MS,
    logger,
    onChange: (down) => {
      chatMetrics.databaseUnavailable.set(down ? 1 : 0);
      if (down) chatMetrics.databaseOutages.inc();
    },
  });
  // Admission: at most ADMISSION_MAX_IN_FLIGHT requests do database work at once (admission.ts).
  const admission = createMeasuredAdmission(metrics.registry, 'chat', { maxInFlight: config.ADMISSION_MAX_IN_FLIGHT, maxWaitMs: config.ADMISSION_MAX_WAIT_MS });
  const messages = createMessagesRepository(db, { outage });
  const timeline = createTimeline(db, { outage });
  const conversations = createConversationsRepository(db);
  const readMarks = createReadMarksRepository(db);
  const ensureIndexes = () => Promise.all([messages.ensureIndexes(), timeline.ensureIndexes(), conversations.ensureIndexes(), readMarks.ensureIndexes()]);
  // Serve (liveness) even when the database is down; readiness says so until it is up. The
  // explicit connect-with-retry matters when the database comes up after us (common at a
  // Kubernetes rollout): the driver's lazy first connect never recovers from a failure.
  void connectWithRetry(client, { logger, retryMs: 1_000, stopped: () => lifecycle.closing })
    .then(async (connected) => {
      if (!connected) return;
      await ensureIndexes();
      logger.info({ db: config.MONGO_DB }, 'database connected, indexes ready');
    })
    .catch((err: unknown) => logger.warn({ err }, 'creating indexes failed; retried on first use'));

  const publisher = new EventPublisher({ url: config.AMQP_URL, logger, confirmTimeoutMs: config.PUBLISH_CONFIRM_TIMEOUT_MS });
  publisher.start();
  const relay = new OutboxRelay({
    messages,
    timeline,
    publisher,
    metrics: chatMetrics,
    logger,
    delayMs: config.OUTBOX_RELAY_DELAY_MS,
    intervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
    batchMax: config.PUBLISH_BATCH_MAX,
    // Its scans and marks yield to requests waiting for an admission slot (bounded).
    pressure: admission,
  });
  relay.start();
  const activity = new ConversationActivity({ conversations, readMarks, logger, intervalMs: config.CONVERSATION_ACTIVITY_INTERVAL_MS });
  activity.start();

  const directory = createUserDirectory({
    authUrl: config.AUTH_URL,
    credential: createServiceTokenSource('chat', config.SERVICE_TOKEN_SECRET),
    ttlMs: config.USER_CACHE_TTL_MS,
  });
  // Every request carries its client's token, checked before admission: a check reused for up
  // to a minute saves the signature's CPU on all but the first (verified-token-cache.ts).
  const verifyUser = cachingTokenVerifier(createJwtVerifier({ jwksUrl: `${config.AUTH_URL}/.well-known/jwks.json`, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }));

  // Presence: the gateways' signals feed a table here too, for GET /presence; Chat publishes
  // live read receipts on the same bus. Neither is on the durable path.
  const presence = new Presence({
    lastSeen: createLastSeenRepository(db),
    metrics: chatMetrics,
    logger,
    graceMs: config.PRESENCE_GRACE_MS,
    timeoutMs: config.PRESENCE_TIMEOUT_MS,
    warmupMs: presenceBeatMs(config.PRESENCE_TIMEOUT_MS) + 1_000,
  });
  presence.start();
  const signals = new SignalBus({
    url: config.AMQP_URL,
    logger,
    consume: { queue: `${processQueueName('chat')}.signals`, keys: ['presence'], onSignal: presence.handle },
    onDropped: (reason) => chatMetrics.signalsDropped.inc({ reason }),
  });
  signals.start();
  const readSignals: ReadSignals = { publishRead: (signal) => void signals.publish({ v: 1, kind: 'read', ...signal }) };

  const write = createMessageWriter({ messages, timeline, relay, activity, metrics: chatMetrics, crashPoint });
  const app = createChatApp({
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    corsOrigins: config.CORS_ORIGINS,
    logger,
    metrics,
    lifecycle,
    verifyUser,
    verifyService: createServiceTokenVerifier(config.SERVICE_TOKEN_SECRET),
    directory,
    timeline,
    messages,
    conversations,
    groups: createGroups({ conversations, directory, write, maxMembers: config.MAX_GROUP_MEMBERS }),
    receipts: createReceipts({ messages, conversations, readMarks, signals: readSignals, maxMembers: config.RECEIPTS_MAX_MEMBERS, logger, onRead: (result) => chatMetrics.readMarks.inc({ result }) }),
    measuring: [koaRoundTrips('chat', metrics.registry)],
    outage,
    admission,
    answerWithinMs: config.ADMISSION_ANSWER_WITHIN_MS,
    send: createSendMessage({ messages, timeline, conversations, directory, write }),
    presence,
    contactsOf: createContactsLookup(conversations),
    readiness: {
      database: databaseReadiness(db, ensureIndexes, Math.min(1_000, config.MONGO_TIMEOUT_MS), outage),
      broker: () => publisher.ensureChannel(),
    },
  });

  // Shutdown steps run in order: /readyz fails as soon as `closing` is set, then (optionally)
  // we keep serving while load balancers notice, then the listener drains (requests waiting for
  // admission get 503 at once; running ones finish, or get 503 at the drain deadline, so none
  // meets the closed database client as a 500), then in-flight
  // publishes are confirmed and marked, then the conversation list's last activity is written,
  // then the last-seen times are stored, then the broker connections and the database close.
  if (config.SHUTDOWN_DELAY_MS > 0) lifecycle.onShutdown('readiness-propagation', () => sleep(config.SHUTDOWN_DELAY_MS));
  await serveMetrics({ port: config.METRICS_PORT, metrics, logger });
  await serveKoa(app, { port: config.PORT, lifecycle, logger, drainMs: Math.max(0, config.SHUTDOWN_GRACE_MS - config.SHUTDOWN_DELAY_MS - 3_000), admission });
  lifecycle.onShutdown('outbox-relay', () => relay.stop(2_000));
  lifecycle.onShutdown('conversation-activity', () => activity.stop());
  lifecycle.onShutdown('presence', () => presence.stop());
  lifecycle.onShutdown('broker', () => Promise.all([publisher.close(), signals.close()]).then(() => undefined));
  lifecycle.onShutdown('mongo', () => (outage.stop(), client.close()));
}

runService('chat', loadChatConfig, main);
