import { consumerConfig, GATEWAY_SUBSCRIPTION, parseNewMessageEvent, type NewMessageEvent } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';
import type { Message } from 'amqplib';
import rascal from 'rascal';
import type { GatewayMetrics } from './metrics.js';

type RascalBroker = rascal.Broker;
type Session = rascal.SubscriptionSession & { _getRascalChannelId?: () => string | null };
type AckOrNack = rascal.AckOrNack;

export interface BrokerAdapterOptions {
  url: string;
  /** This process's own queue (`gatewayQueueName(POD_NAME)`), fixed for the process lifetime. */
  queue: string;
  prefetch: number;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Delivers one event; the message is acked when the returned promise settles. */
  onEvent: (event: NewMessageEvent) => Promise<void>;
  /** Called when consuming resumes after an outage (events published meanwhile were lost here). */
  onResumed?: () => void;
  /** Retry delays for the first connection and for resubscribing. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/**
 * The gateway's consumer: an exclusive, auto-delete queue of its own bound to the `chat.events`
 * fanout (topology from @chat/common), so every pod sees every event and delivers to its local
 * sockets only.
 *
 * rascal reconnects after a broker restart, re-declares the queue and binding (the old queue died
 * with the broker) and resubscribes. The first connection is retried here, because rascal's
 * `create` fails at once when the broker is down at start, and the gateway must come up anyway
 * (not ready) rather than crash-loop.
 */
export class BrokerAdapter {
  private broker: RascalBroker | undefined;
  private session: Session | undefined;
  private consumingFlag = false;
  private wasConsuming = false;
  private everConsumed = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly opts: BrokerAdapterOptions) {}

  /** Starts connecting in the background; readiness stays false until consuming. */
  start(): void {
    this.connecting ??= this.connectWithRetry();
    this.watchTimer = setInterval(() => this.watchConsuming(), 250);
    this.watchTimer.unref();
  }

  /**
   * True while a consumer channel is open on our queue. rascal emits no event when it resubscribes
   * after a reconnect, so this reads the session's current consumer channel (rascal's own
   * bookkeeping: set when a consume succeeds, cleared when its channel closes or errors).
   */
  isConsuming(): boolean {
    const session = this.session;
    if (!session || this.stopped || session.isCancelled()) return false;
    if (typeof session._getRascalChannelId === 'function') return session._getRascalChannelId() !== null;
    return this.consumingFlag;
  }

  /**
   * Stops taking new events and waits until every event already taken has been handled and
   * acked (rascal's cancel waits for unacknowledged messages, bounded by `closeTimeout`).
   */
  async stopConsuming(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchTimer);
    const session = this.session;
    if (!session) return;
    await new Promise<void>((resolve) => {
      session.cancel((err) => {
        if (err) this.opts.logger.warn({ err }, 'cancelling the broker subscription failed');
        resolve();
      });
    });
  }

  /** Closes the connection cleanly (after `stopConsuming`). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchTimer);
    await this.connecting?.catch(() => undefined);
    const broker = this.broker;
    this.broker = undefined;
    if (!broker) return;
    await new Promise<void>((resolve) => {
      broker.shutdown((err) => {
        if (err) this.opts.logger.warn({ err }, 'broker shutdown reported an error');
        resolve();
      });
    });
  }

  private async connectWithRetry(): Promise<void> {
    const min = this.opts.retryMinMs ?? 250;
    const max = this.opts.retryMaxMs ?? 2_000;
    let delay = min;
    while (!this.stopped) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        this.opts.logger.warn({ err, retryInMs: delay }, 'broker unavailable; retrying');
        await new Promise<void>((resolve) => {
          this.retryTimer = setTimeout(resolve, delay);
        });
        delay = Math.min(max, delay * 2);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const config = consumerConfig({ url: this.opts.url, queue: this.opts.queue, prefetch: this.opts.prefetch });
    const broker = await new Promise<RascalBroker>((resolve, reject) => {
      rascal.Broker.create(config as rascal.BrokerConfig, (err: Error | null, created: RascalBroker) => {
        if (!err) return resolve(created);
        // A failed create still leaves a keep-alive timer running; shut it down or it leaks.
        created?.shutdown(() => undefined);
        reject(err);
      });
    });
    if (this.stopped) {
      broker.shutdown(() => undefined);
      return;
    }
    this.broker = broker;
    const log = this.opts.logger;
    broker.on('error', (err: Error) => log.warn({ err }, 'broker connection error; rascal reconnects'));
    broker.on('disconnect', () => {
      this.consumingFlag = false;
      log.warn('broker disconnected');
    });
    broker.on('vhost_initialised', () => log.info({ queue: this.opts.queue }, 'broker connected; queue declared and bound'));
    broker.on('blocked', (reason: unknown) => log.warn({ reason }, 'broker blocked the connection'));

    const retry = { min: this.opts.retryMinMs ?? 250, max: this.opts.retryMaxMs ?? 2_000, factor: 2, strategy: 'exponential' };
    const session = await new Promise<Session>((resolve, reject) => {
      broker.subscribe(GATEWAY_SUBSCRIPTION, { retry, closeTimeout: 5_000 } as rascal.SubscriptionConfig, (err: Error | null, s: Session) =>
        err ? reject(err) : resolve(s),
      );
    });
    this.session = session;
    session.on('error', (err: Error) => {
      this.consumingFlag = false;
      log.warn({ err }, 'subscription error; rascal resubscribes');
    });
    session.on('cancelled', (err: Error) => log.warn({ err }, 'subscription cancelled by the broker; rascal resubscribes'));
    session.on('subscribed' as 'error', () => {
      this.consumingFlag = true;
      log.info({ queue: this.opts.queue }, 'consuming events');
    });
    session.on('invalid_content', (err: Error, message: Message, ackOrNack: AckOrNack) => {
      this.opts.metrics.eventsConsumed.inc();
      this.dropMalformed(message, ackOrNack, err.message);
    });
    for (const name of ['redeliveries_exceeded', 'redeliveries_error'] as const) {
      session.on(name, (err: Error, message: Message, ackOrNack: AckOrNack) => {
        log.warn({ err, messageId: message.properties.messageId }, `${name}; event dropped`);
        this.opts.metrics.eventsDropped.inc({ reason: 'malformed' });
        ackOrNack();
      });
    }
    // Adding the 'message' listener is what starts rascal's consume.
    session.on('message', (message: Message, content: unknown, ackOrNack: AckOrNack) => {
      this.opts.metrics.eventsConsumed.inc();
      const event = parseNewMessageEvent(content);
      if (!event) {
        this.dropMalformed(message, ackOrNack, 'not a new_message v1 event');
        return;
      }
      this.opts.onEvent(event).then(
        () => ackOrNack(),
        (err: unknown) => {
          // Delivery never rejects by design; if it does, requeueing would loop, so log and ack.
          log.error({ err, messageId: event.message.id }, 'event delivery failed');
          ackOrNack();
        },
      );
    });
  }

  /** A malformed event is logged (never its content) and acked: requeueing it would loop forever. */
  private dropMalformed(message: Message, ackOrNack: AckOrNack, why: string): void {
    this.opts.metrics.eventsDropped.inc({ reason: 'malformed' });
    this.opts.logger.warn({ why, messageId: message.properties.messageId, bytes: message.content.length }, 'malformed event dropped');
    ackOrNack();
  }

  /** Notices consuming stop and resume (rascal resubscribes silently), for logs and `onResumed`. */
  private watchConsuming(): void {
    const now = this.isConsuming();
    if (now && !this.wasConsuming) {
      if (this.everConsumed) {
        this.opts.logger.info({ queue: this.opts.queue }, 'consuming again after a broker outage');
        this.opts.onResumed?.();
      }
      this.everConsumed = true;
    } else if (!now && this.wasConsuming && !this.stopped) {
      this.opts.logger.warn('not consuming: waiting for the broker');
    }
    this.wasConsuming = now;
  }
}
