import rascal from 'rascal';
import type { BrokerAsPromised, BrokerConfig } from 'rascal';
import type { ConfirmChannel, Connection } from 'amqplib/callback_api.js';
import { EVENTS_EXCHANGE, publisherConfig, type NewMessageEvent } from '@chat/common/contracts';
import type { Logger } from '@chat/common/config';

export interface PublishItem {
  /** The message id; also the AMQP messageId, so consumers can dedupe. */
  id: string;
  event: NewMessageEvent;
}

/** What the outbox relay needs from a publisher (tests and the benchmark drive the same interface). */
export interface EventSink {
  readonly connected: boolean;
  /** True when a confirm channel is open, trying to open one if it is not (rate-limited). */
  ensureChannel(): Promise<boolean>;
  /** Publishes the batch with confirms; resolves with the ids the broker confirmed. Never rejects. */
  publish(items: PublishItem[]): Promise<Set<string>>;
}

export interface EventPublisherOptions {
  url: string;
  logger: Logger;
  /** A batch whose confirms have not all arrived by then resolves with what was confirmed. */
  confirmTimeoutMs?: number;
  /** Least time between two attempts to open the publish channel, and between broker bootstraps. */
  reconnectDelayMs?: number;
  /**
   * Where events go; defaults to `chat.events`. Only the benchmark changes it (a private
   * exchange of the same type, so its load does not reach the gateways of a shared broker).
   */
  exchange?: string;
}

const PUBLISH_OPTIONS = { persistent: true, contentType: 'application/json' } as const;

/**
 * Confirmed publishing of chat events to the `chat.events` fanout exchange.
 *
 * rascal owns the broker: it asserts the topology from @chat/common (`publisherConfig`),
 * reconnects after a broker restart, and hands us connections (`broker.connect`). It is not
 * used for the publish itself: a rascal confirmed publication holds one pooled channel per
 * unconfirmed message, which measured 140–200 msg/s with the default pool and ~1.75k/s with
 * 200 channels. Instead a whole batch is published on ONE amqplib ConfirmChannel (opened on a
 * rascal connection) with a confirm callback per message, so confirms are pipelined and
 * RabbitMQ acks them in bulk (`multiple`). Every message is still individually confirmed:
 * only the ids whose ack arrived are reported, and only those are ever marked published.
 *
 * A broker outage never throws into callers: `publish` reports nothing confirmed, the
 * messages stay unpublished in the database, and the relay retries once a channel is back.
 */
export class EventPublisher implements EventSink {
  private broker: BrokerAsPromised | undefined;
  private connection: Connection | undefined;
  private channel: ConfirmChannel | undefined;
  private opening: Promise<boolean> | undefined;
  private lastAttempt = 0;
  /** Ends the wait between two bootstrap attempts early (on close). */
  private wakeBootstrap: (() => void) | undefined;
  private bootstrapping: Promise<void> | undefined;
  private closed = false;
  private readonly confirmTimeoutMs: number;
  private readonly reconnectDelayMs: number;
  private readonly exchangeName: string;
  private readonly exchange: { type: string; options: Record<string, unknown> };

  constructor(private readonly opts: EventPublisherOptions) {
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
    this.reconnectDelayMs = opts.reconnectDelayMs ?? 500;
    // The exchange definition comes from the one topology in @chat/common.
    const definition = publisherConfig({ url: opts.url }).vhosts['/'].exchanges[EVENTS_EXCHANGE];
    if (!definition) throw new Error(`@chat/common's publisher topology lacks ${EVENTS_EXCHANGE}`);
    this.exchange = definition;
    this.exchangeName = opts.exchange ?? EVENTS_EXCHANGE;
  }

  get connected(): boolean {
    return this.channel !== undefined;
  }

  /**
   * Starts the rascal broker in the background. If RabbitMQ is down at start, rascal's
   * create fails (it only retries after a first success), so we retry until it works; the
   * service serves meanwhile and readiness reports the broker as down.
   */
  start(): void {
    this.bootstrapping ??= this.bootstrap();
  }

  /** Resolves once rascal is up (for tests and the benchmark). */
  async started(timeoutMs = 30_000): Promise<void> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    while (!this.broker) {
      if (this.closed) throw new Error('publisher closed');
      if (Date.now() > deadline) throw new Error(`broker not reachable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async bootstrap(): Promise<void> {
    let delay = this.reconnectDelayMs;
    while (!this.closed && !this.broker) {
      try {
        const broker = await rascal.BrokerAsPromised.create(publisherConfig({ url: this.opts.url }) as BrokerConfig);
        if (this.closed) {
          await broker.shutdown().catch(() => undefined);
          return;
        }
        // Without these handlers an 'error' event would crash the process on a broker restart.
        broker.on('error', (err: Error) => this.opts.logger.warn({ err }, 'broker connection error; rascal reconnects'));
        broker.on('disconnect', () => this.opts.logger.warn('broker disconnected'));
        broker.on('vhost_initialised', () => {
          this.opts.logger.info('broker reconnected, topology asserted');
          void this.ensureChannel(); // reopen the publish channel now rather than at the next relay tick
        });
        broker.on('blocked', (reason: unknown) => this.opts.logger.warn({ reason }, 'broker blocked publishing'));
        broker.on('unblocked', () => this.opts.logger.info('broker unblocked publishing'));
        this.broker = broker;
        this.opts.logger.info('broker connected, topology asserted');
        void this.ensureChannel();
      } catch (err) {
        this.discardFailedBroker(err);
        this.opts.logger.warn({ err }, `broker not reachable; retrying in ${delay} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeBootstrap = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeBootstrap = undefined;
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  /**
   * A failed create still leaves a rascal broker behind (attached to the error) with a
   * keep-alive interval that would hold the process open forever; shut it down.
   */
  private discardFailedBroker(err: unknown): void {
    if (typeof err !== 'object' || err === null) return;
    const key = (err as { broker?: unknown }).broker;
    if (typeof key !== 'symbol') return;
    const leftover = (err as Record<symbol, unknown>)[key] as BrokerAsPromised | undefined;
    leftover?.on('error', () => undefined);
    void leftover?.shutdown().catch(() => undefined);
  }

  ensureChannel(): Promise<boolean> {
    if (this.channel) return Promise.resolve(true);
    if (this.closed || !this.broker) return Promise.resolve(false);
    if (this.opening) return this.opening;
    if (Date.now() - this.lastAttempt < this.reconnectDelayMs) return Promise.resolve(false);
    this.lastAttempt = Date.now();
    this.opening = this.openChannel(this.broker).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openChannel(broker: BrokerAsPromised): Promise<boolean> {
    let connection: Connection | undefined;
    try {
      // rascal's typings name the promise API's Connection; it is the callback API's.
      connection = (await broker.connect('/')) as unknown as Connection;
      connection.on('error', (err: Error) => this.opts.logger.warn({ err }, 'publish connection error'));
      const conn = connection;
      connection.on('close', () => this.forget(conn, 'publish connection closed'));
      const channel = await new Promise<ConfirmChannel>((resolve, reject) =>
        conn.createConfirmChannel((err, ch) => (err ? reject(err as Error) : resolve(ch))),
      );
      channel.on('error', (err: Error) => this.opts.logger.warn({ err }, 'publish channel error'));
      channel.on('close', () => this.forget(conn, 'publish channel closed'));
      // Idempotent; covers a broker that came back before rascal re-asserted the topology.
      await new Promise<void>((resolve, reject) =>
        channel.assertExchange(this.exchangeName, this.exchange.type, this.exchange.options, (err) => (err ? reject(err as Error) : resolve())),
      );
      if (this.closed) {
        conn.close(() => undefined);
        return false;
      }
      this.connection = conn;
      this.channel = channel;
      this.opts.logger.info('publish channel open');
      return true;
    } catch (err) {
      this.opts.logger.warn({ err }, 'cannot open the publish channel yet');
      connection?.close(() => undefined);
      return false;
    }
  }

  private forget(connection: Connection, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.channel = undefined;
    if (!this.closed) this.opts.logger.warn(reason);
    connection.close(() => undefined);
  }

  publish(items: PublishItem[]): Promise<Set<string>> {
    const confirmed = new Set<string>();
    const channel = this.channel;
    if (!channel || items.length === 0) return Promise.resolve(confirmed);
    return new Promise((resolve) => {
      let outstanding = items.length;
      let finished = false;
      const settled = new Uint8Array(items.length);
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve(confirmed);
      };
      // Each message settles once: ack, nack, channel closed, or failed to send.
      const settle = (index: number, ok: boolean) => {
        if (settled[index]) return;
        settled[index] = 1;
        if (ok && !finished) confirmed.add(items[index]!.id);
        if (--outstanding === 0) finish();
      };
      const timer = setTimeout(() => {
        this.opts.logger.warn({ confirmed: confirmed.size, outstanding }, 'publish confirms timed out; the relay will retry the rest');
        finish();
      }, this.confirmTimeoutMs);
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        try {
          channel.publish(this.exchangeName, '', Buffer.from(JSON.stringify(item.event)), { ...PUBLISH_OPTIONS, messageId: item.id }, (err) => settle(i, !err));
        } catch (err) {
          // The channel closed under us: nothing from here on went out.
          this.opts.logger.warn({ err }, 'publish failed; the relay will retry');
          for (let j = i; j < items.length; j++) settle(j, false);
          break;
        }
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeBootstrap?.();
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    if (connection) await new Promise<void>((resolve) => connection.close(() => resolve()));
    await this.bootstrapping;
    if (this.broker) await this.broker.shutdown().catch((err: unknown) => this.opts.logger.warn({ err }, 'broker shutdown failed'));
    this.broker = undefined;
  }
}
