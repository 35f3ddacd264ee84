/**
 * @chat/common/signal-bus — publishing and consuming signals (signals.ts) on `chat.ephemeral`.
 *
 * Deliberately not the durable path (chat.events, rascal, confirm channels, acks): a signal is
 * published on a plain channel with no confirm and no persistence, consumed with `noAck` from an
 * exclusive, auto-delete queue whose length is bounded (the oldest are dropped first), and
 * simply lost while the broker is away. That is the right trade for typing and presence, whose
 * value expires in seconds; what must last is stored by Chat. A lost presence signal is
 * repaired by the next beat (presence-table.ts).
 *
 * Needs the `amqplib` package (an optional peer of @chat/common).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { openAmqpConnection, ReconnectSchedule } from './amqp-reconnect.js';
import type { Logger } from './config.js';
import { SIGNALS_EXCHANGE, SIGNALS_EXCHANGE_TYPE } from './broker.js';
import { parseSignal, routingKeyOf, type Signal, type SignalRoutingKey } from './signals.js';

export interface SignalConsumer {
  /** This process's own queue (exclusive: a second process with the same name is refused). */
  queue: string;
  keys: readonly SignalRoutingKey[];
  onSignal: (signal: Signal) => void;
  /** Most signals the queue holds for a slow consumer; the oldest go first. */
  maxLength?: number;
}

export interface SignalBusOptions {
  url: string;
  logger: Logger;
  consume?: SignalConsumer;
  /** After every (re)connection, once consuming: state that was lost meanwhile can be republished. */
  onConnected?: () => void;
  /** Counts what was dropped: `unconnected` (no channel), `full` (the channel's buffer), `malformed` (consumed). */
  onDropped?: (reason: 'unconnected' | 'full' | 'malformed') => void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class SignalBus {
  private model: ChannelModel | undefined;
  private channel: Channel | undefined;
  private stopped = false;
  private readonly reconnect: ReconnectSchedule;

  constructor(private readonly opts: SignalBusOptions) {
    this.reconnect = new ReconnectSchedule(opts.retryMinMs, opts.retryMaxMs);
  }

  get connected(): boolean {
    return this.channel !== undefined;
  }

  start(): void {
    void this.connectOnce();
  }

  /** Fire and forget: false when the signal was dropped (no channel, or its buffer is full). */
  publish(signal: Signal): boolean {
    const channel = this.channel;
    if (!channel) {
      this.opts.onDropped?.('unconnected');
      return false;
    }
    try {
      const ok = channel.publish(SIGNALS_EXCHANGE, routingKeyOf(signal), Buffer.from(JSON.stringify(signal)), { persistent: false, contentType: 'application/json' });
      // amqplib keeps the message even when it answers false; it only asks us to slow down.
      // Signals do not wait: the next ones are dropped until the buffer drains.
      if (!ok) this.opts.onDropped?.('full');
      return ok;
    } catch {
      this.opts.onDropped?.('unconnected');
      return false;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.reconnect.stop();
    const model = this.model;
    const channel = this.channel;
    this.model = undefined;
    this.channel = undefined;
    // The channel first: its close is queued behind what was published on it, whereas the
    // connection's close overtakes those writes, and the broker then drops them (a draining
    // gateway's `bye` was lost that way on every drain).
    await channel?.close().catch(() => undefined);
    await model?.close().catch(() => undefined);
  }

  private async connectOnce(): Promise<void> {
    if (this.stopped) return;
    const { logger } = this.opts;
    let model: ChannelModel | undefined;
    try {
      model = await openAmqpConnection(this.opts.url);
      model.on('error', (err: Error) => logger.warn({ err }, 'signal bus connection error'));
      model.on('close', () => this.lost(model!));
      const channel = await model.createChannel();
      channel.on('error', (err: Error) => logger.warn({ err }, 'signal bus channel error'));
      channel.on('close', () => this.lost(model!));
      await channel.assertExchange(SIGNALS_EXCHANGE, SIGNALS_EXCHANGE_TYPE, { durable: true });
      const consumer = this.opts.consume;
      if (consumer) {
        await channel.assertQueue(consumer.queue, {
          exclusive: true,
          autoDelete: true,
          durable: false,
          arguments: { 'x-max-length': consumer.maxLength ?? 10_000, 'x-overflow': 'drop-head' },
        });
        for (const key of consumer.keys) await channel.bindQueue(consumer.queue, SIGNALS_EXCHANGE, key);
        await channel.consume(consumer.queue, (msg) => this.received(msg), { noAck: true });
      }
      if (this.stopped) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.channel = channel;
      this.reconnect.connected();
      logger.info({ queue: consumer?.queue }, 'signal bus connected');
      this.opts.onConnected?.();
    } catch (err) {
      await model?.close().catch(() => undefined);
      logger.warn({ err, retryInMs: this.reconnect.nextDelayMs }, 'signal bus unavailable; retrying');
      this.retry();
    }
  }

  private received(msg: ConsumeMessage | null): void {
    if (!msg) return; // the broker cancelled the consumer; the channel's close reconnects
    const signal = parseSignal(msg.content);
    if (!signal) {
      this.opts.onDropped?.('malformed');
      return;
    }
    try {
      this.opts.consume?.onSignal(signal);
    } catch (err) {
      this.opts.logger.error({ err, kind: signal.kind }, 'handling a signal failed');
    }
  }

  private lost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.channel = undefined;
    void model.close().catch(() => undefined);
    if (this.stopped) return;
    this.opts.logger.warn('signal bus disconnected; reconnecting');
    this.retry();
  }

  private retry(): void {
    if (!this.stopped) this.reconnect.schedule(() => void this.connectOnce());
  }
}
