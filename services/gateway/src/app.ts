import { gatewayQueueName, presenceBeatMs, type Lifecycle, type Logger } from '@chat/common/config';
import { createServiceTokenSource, type VerifyUserToken } from '@chat/common/jwt';
import { SIGNAL_ROUTING_KEYS } from '@chat/common/contracts';
import { SignalBus } from '@chat/common/signal-bus';
import type { UserDirectory } from '@chat/common/user-directory';
import uWS, { type ListenOptions, type us_listen_socket } from 'uWebSockets.js';
import { EventConsumer } from '@chat/common/event-consumer';
import { createAudienceClient, forgetWhatChanged, type Audience } from './audience-client.js';
import { createChatSyncClient, type ReadSyncPage } from './chat-sync-client.js';
import type { GatewayConfig } from './config.js';
import { ConnectionLimits } from './connection-limits.js';
import { Delivery } from './delivery.js';
import type { InMemoryTokenVerifier } from './in-memory-token-verifier.js';
import { registerHttpRoutes } from './http-handler.js';
import { WEBSOCKET_PATH } from './http-routes.js';
import { LiveSignals } from './live-signals.js';
import type { GatewayMetrics } from './metrics.js';
import { PresenceReporter } from './presence-reporter.js';
import { SocketRegistry } from './socket-registry.js';
import { SocketSender } from './socket-sender.js';
import { SocketStreams } from './socket-streams.js';
import { closeSocket } from './socket-state.js';
import { TokenExpiry } from './token-expiry.js';
import { TypingFrames } from './typing.js';
import { createWsBehavior, type SocketHooks } from './ws-handler.js';

/**
 * The package exports LIBUS_LISTEN_EXCLUSIVE_PORT (1) at run time; its typings declare only the
 * ListenOptions enum, which has no run-time value.
 */
const EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: ListenOptions }).LIBUS_LISTEN_EXCLUSIVE_PORT;

export interface GatewayDeps {
  config: Readonly<GatewayConfig>;
  logger: Logger;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
  /** Verification that may wait for Auth's key set (index.ts: the in-memory verifier's verifyOrFetch, so one key cache). */
  verifyUser: VerifyUserToken;
  /** Verification on the spot with Auth's keys held in memory (see in-memory-token-verifier.ts). */
  inMemoryVerifier?: InMemoryTokenVerifier;
  directory: UserDirectory;
  /** Reads replays from Chat; defaults to HTTP against CHAT_URL. */
  readSyncPage?: ReadSyncPage;
  /** Group members and contacts, from Chat; defaults to HTTP against CHAT_URL with a service token. */
  audience?: Audience;
}

export interface Gateway {
  /** Listens on `port` (0 picks a free one) and resolves with the bound port. */
  listen(port: number): Promise<number>;
  /** Starts consuming events (retries in the background while the broker is down). */
  startConsuming(): void;
  /** Named readiness checks, as /readyz reports them. */
  readiness(): Record<string, boolean>;
  /** The SIGTERM drain; see the order below. */
  drain(): Promise<void>;
  readonly registry: SocketRegistry;
  readonly queue: string;
  /** Typing, read and presence signals: what every pod's presence table is fed. */
  readonly signals: LiveSignals;
}


/**
 * Builds the gateway from its dependencies: one uWS app serving the WebSocket route and the
 * health routes on a single port, a per-process broker queue, and delivery to local sockets.
 */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, metrics, lifecycle } = deps;
  const registry = new SocketRegistry();
  const sender = new SocketSender(metrics, config.MAX_BACKPRESSURE_BYTES);
  const expiry = new TokenExpiry((ws) => closeSocket(ws, 'token_expired'));
  const streams = new SocketStreams({
    sender,
    readSyncPage: deps.readSyncPage ?? createChatSyncClient({ chatUrl: config.CHAT_URL }),
    tokenOf: (userId) => registry.tokenOf(userId),
    metrics,
    logger,
    replayLimit: config.REPLAY_LIMIT,
    pageSize: config.REPLAY_PAGE_SIZE,
    resumeWindowMs: config.RESUME_WINDOW_MS,
    maxConcurrentReplays: config.REPLAY_CONCURRENCY,
  });
  const delivery = new Delivery({ registry, directory: deps.directory, sink: streams.deliverLive, metrics, logger });
  const queue = gatewayQueueName(config.POD_NAME);
  const audience = deps.audience ?? createAudienceClient({ chatUrl: config.CHAT_URL, credential: createServiceTokenSource('gateway', config.SERVICE_TOKEN_SECRET) });

  // The layer beside the message path: typing, live read receipts and presence, on chat.ephemeral.
  const beatMs = presenceBeatMs(config.PRESENCE_TIMEOUT_MS);
  const signals = new LiveSignals({
    registry,
    sender,
    audience,
    metrics,
    logger,
    graceMs: config.PRESENCE_GRACE_MS,
    timeoutMs: config.PRESENCE_TIMEOUT_MS,
    warmupMs: beatMs + 1_000,
  });
  const bus = new SignalBus({
    url: config.AMQP_URL,
    logger,
    consume: { queue: `${queue}.signals`, keys: SIGNAL_ROUTING_KEYS, onSignal: signals.handle },
    // Signals published while the bus was down are lost: the next beat repairs presence, so send it now.
    onConnected: () => reporter.beat(),
    onDropped: (reason) => metrics.signalsDropped.inc({ reason }),
  });
  const reporter = new PresenceReporter({ pod: queue, registry, publish: (s) => bus.publish(s), flushMs: 50, beatMs });
  const typing = new TypingFrames({ audience, sender, publish: (s) => bus.publish(s), metrics, logger, maxMembers: config.TYPING_MAX_MEMBERS });
  const presenceTick = setInterval(() => signals.table.tick(), 500);
  metrics.countOnlineUsers(() => signals.table.onlineCount);
  presenceTick.unref();
  const hooks: SocketHooks = {
    onOpen(ws) {
      streams.onOpen(ws);
      const { user } = ws.getUserData();
      reporter.mark(user.id, user.username);
    },
    onFrame: (ws, parsed) => streams.onFrame(ws, parsed) || typing.onFrame(ws, parsed),
    onClose(ws) {
      streams.onClose(ws);
      const { user } = ws.getUserData();
      reporter.mark(user.id, user.username);
    },
  };
  const broker = new EventConsumer({
    url: config.AMQP_URL,
    queue,
    prefetch: config.BROKER_PREFETCH,
    logger,
    onConsumed: () => void metrics.hot.eventsConsumed++,
    onMalformed: () => metrics.eventsDropped.inc({ reason: 'malformed' }),
    onEvent: (event) => {
      // Every pod sees every event: its recipients are listed once, for both.
      const recipients = Object.keys(event.cursors);
      forgetWhatChanged(audience, event, recipients);
      return delivery.handle(event, recipients);
    },
    // Events published while this pod was not consuming are gone from its queue: fill each
    // open socket's hole from Chat instead of waiting for the client to reconnect.
    onResumed: () => streams.fillAll(registry.all()),
  });
  let listenSocket: us_listen_socket | undefined;

  const readiness = () => ({ draining: !lifecycle.closing, broker: broker.isConsuming() });

  const app = uWS.App();
  app.ws(
    WEBSOCKET_PATH,
    createWsBehavior({
      allowedOrigins: config.ALLOWED_ORIGINS,
      maxFramesPerSecond: config.MAX_FRAMES_PER_SECOND,
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxBackpressureBytes: config.MAX_BACKPRESSURE_BYTES,
      idleTimeoutSeconds: config.IDLE_TIMEOUT_SECONDS,
      verifyUser: deps.verifyUser,
      verifyUserInMemory: deps.inMemoryVerifier ? (token) => deps.inMemoryVerifier!.verify(token) : undefined,
      registry,
      expiry,
      sender,
      metrics,
      logger,
      isDraining: () => lifecycle.closing,
      limits: new ConnectionLimits(config.MAX_SOCKETS_PER_USER, config.MAX_SOCKETS_PER_ADDRESS),
      trustProxyHops: config.TRUST_PROXY_HOPS,
      hooks,
    }),
  );
  registerHttpRoutes(app, { metrics, readiness });

  return {
    registry,
    queue,
    signals,
    readiness,
    listen(port) {
      return new Promise((resolve, reject) => {
        // uWS sets SO_REUSEPORT unless told otherwise: a second gateway on a taken port would
        // then start silently and the kernel would split new connections between the two.
        app.listen(port, EXCLUSIVE_PORT, (socket) => {
          if (!socket) return reject(new Error(`cannot listen on port ${port}: it is already in use by another process (or not permitted)`));
          listenSocket = socket;
          expiry.start();
          reporter.start();
          const bound = uWS.us_socket_local_port(socket);
          logger.info({ port: bound, queue }, 'listening');
          resolve(bound);
        });
      });
    },
    startConsuming() {
      broker.start();
      bus.start();
    },
    /**
     * Readiness is already false (the lifecycle's closing flag). Then: no new connections; no
     * new events, and every event already taken is delivered and acked; only then are sockets
     * closed (so nothing acked here is left undelivered to a socket that was open); finally the
     * broker connection closes cleanly.
     */
    async drain() {
      if (config.SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY_MS));
      if (listenSocket) {
        uWS.us_listen_socket_close(listenSocket);
        listenSocket = undefined;
      }
      await broker.stopConsuming();
      await delivery.idle();
      // Frames held for a resume window or behind a running replay were acked too: hand them
      // over before closing (a replay gets a bounded wait; its client resumes from its cursor).
      streams.endAllResumeWindows(registry.all());
      await streams.settle(Math.min(2_000, config.SHUTDOWN_GRACE_MS / 4));
      const sockets = registry.all();
      for (const ws of sockets) closeSocket(ws, 'service_restart');
      // Its users are let go with a `bye`: each gets the presence grace to reconnect elsewhere,
      // so a drain shows no offline/online pair to their contacts.
      reporter.stop();
      clearInterval(presenceTick);
      expiry.stop();
      deps.inMemoryVerifier?.stop();
      logger.info({ closedSockets: sockets.length }, 'sockets closed with service_restart');
      await broker.shutdown();
      await bus.close();
    },
  };
}
