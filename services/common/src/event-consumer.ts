/**
 * @chat/common/event-consumer — a gateway's consumer of `chat.events`: its own exclusive,
 * auto-delete queue bound to the fanout exchange (topology in broker.ts), so every pod sees every
 * event and delivers to its local sockets. The gateway and the `ws` reference gateway of the
 * benchmark use this same class, so they compare on the same work.
 *
 * Why plain amqplib and not rascal (which Chat's publisher still uses for its topology): a
 * gateway runs this for every event, and profiles put about a quarter of its CPU in the broker
 * client: rascal parses each message's JSON in its own wrapper (and the gateway parsed the
 * result again), wraps each delivery in its own bookkeeping, and acks messages one by one.
 * Here each event is parsed once, handed over synchronously, and acked in batches with
 * `multiple`: one ack covers every message whose delivery work is done, sent every
 * {@link ACK_INTERVAL_MS} or as soon as a quarter of `prefetch` waits for it (so the broker
 * never stops sending for want of acks). Acking per I/O turn instead measured about one ack
 * per event at 5,000 events/s (a turn rarely holds more), and the ack writes were 18% of the
 * gateway's CPU samples. **An event is never acked before its
 * delivery work is done**: an `onEvent` that returns a promise holds its ack, and every later
 * one, until it settles (acks with `multiple` cover everything below them, so they must be
 * contiguous).
 *
 * A broker restart kills the queue with its unacked messages: the consumer reconnects with a
 * capped backoff, declares the queue again, and calls `onResumed` so the gateway fills its
 * sockets' holes from Chat. Needs the `amqplib` package (an optional peer of @chat/common).
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { openAmqpConnection, ReconnectSchedule } from './amqp-reconnect.js';
import type { Logger } from './config.js';
import { EVENTS_EXCHANGE } from './broker.js';
import { parseNewMessageEvent, type NewMessageEvent } from './events.js';

export interface EventConsumerOptions {
  url: string;
  /** This process's own queue (`gatewayQueueName(POD_NAME)`), fixed for the process lifetime. */
  queue: string;
  /** Unacked deliveries held at once (BROKER_PREFETCH). */
  prefetch: number;
  logger: Logger;
  /** Delivers one event; undefined when done at once, else a promise that settles when done. */
  onEvent: (event: NewMessageEvent) => Promise<void> | void;
  /** Called for each message taken from the queue, and for each one dropped as malformed. */
  onConsumed?: () => void;
  onMalformed?: () => void;
  /** Called when consuming resumes after an outage (events published meanwhile were lost here). */
  onResumed?: () => void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** Longest an event whose delivery is done waits for its ack. */
export const ACK_INTERVAL_MS = 10;

export class EventConsumer {
  private model: ChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private everConsumed = false;
  private readonly reconnect: ReconnectSchedule;
  /** Per channel: deliveries whose work is done but not acked yet, and the lowest not done. */
  private acks = new AckWindow();
  private ackTimer: NodeJS.Timeout | undefined;
  /** Deliveries finished since the last ack was sent. */
  private finishedSinceAck = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: EventConsumerOptions) {
    this.reconnect = new ReconnectSchedule(opts.retryMinMs, opts.retryMaxMs);
  }

  /** Starts connecting in the background; `isConsuming` stays false until a consumer is up. */
  start(): void {
    void this.connectOnce();
  }

  isConsuming(): boolean {
    return !this.stopped && this.consumerTag !== undefined;
  }

  /**
   * Stops taking new events and waits until every event already taken is delivered and acked
   * (bounded: a delivery stuck for `timeoutMs` is left to the broker, which requeues nothing for
   * an exclusive queue: it dies with the connection).
   */
  async stopConsuming(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.reconnect.stop();
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (!channel || consumerTag === undefined) return;
    await channel.cancel(consumerTag).catch(() => undefined);
    if (this.acks.outstanding === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes the connection cleanly (after `stopConsuming`). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.reconnect.stop();
    this.flushAcks();
    const model = this.model;
    this.model = undefined;
    this.channel = undefined;
    await model?.close().catch(() => undefined);
  }

  private async connectOnce(): Promise<void> {
    if (this.stopped) return;
    const { logger, queue } = this.opts;
    let model: ChannelModel | undefined;
    try {
      model = await openAmqpConnection(this.opts.url);
      const current = model;
      model.on('error', (err: Error) => logger.warn({ err }, 'broker connection error; reconnecting'));
      model.on('close', () => this.lost(current));
      model.on('blocked', (reason: unknown) => logger.warn({ reason }, 'broker blocked the connection'));
      const channel = await model.createChannel();
      channel.on('error', (err: Error) => logger.warn({ err }, 'broker channel error; reconnecting'));
      channel.on('close', () => this.lost(current));
      await channel.prefetch(this.opts.prefetch);
      await channel.assertExchange(EVENTS_EXCHANGE, 'fanout', { durable: true });
      await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(queue, EVENTS_EXCHANGE, '');
      logger.info({ queue }, 'broker connected; queue declared and bound');
      if (this.stopped) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.channel = channel;
      this.acks = new AckWindow();
      const { consumerTag } = await channel.consume(queue, (msg) => this.received(channel, msg), { noAck: false });
      this.consumerTag = consumerTag;
      this.reconnect.connected();
      logger.info({ queue }, 'consuming events');
      if (this.everConsumed) {
        logger.info({ queue }, 'consuming again after a broker outage');
        this.opts.onResumed?.();
      }
      this.everConsumed = true;
    } catch (err) {
      await model?.close().catch(() => undefined);
      if (this.model === model) {
        this.model = undefined;
        this.channel = undefined;
      }
      logger.warn({ err, retryInMs: this.reconnect.nextDelayMs }, 'broker unavailable; retrying');
      this.retry();
    }
  }

  private received(channel: Channel, msg: ConsumeMessage | null): void {
    if (!msg) {
      // The broker cancelled the consumer (the queue was deleted): start over.
      this.opts.logger.warn('subscription cancelled by the broker; reconnecting');
      if (this.model) void this.model.close().catch(() => undefined);
      return;
    }
    this.opts.onConsumed?.();
    const window = this.acks;
    window.taken(msg);
    let event: NewMessageEvent | undefined;
    try {
      event = parseNewMessageEvent(JSON.parse(msg.content.toString('utf8')));
    } catch {
      event = undefined;
    }
    if (!event) {
      // Logged (never its content) and acked: requeueing it would loop forever.
      this.opts.onMalformed?.();
      this.opts.logger.warn({ messageId: msg.properties.messageId, bytes: msg.content.length }, 'malformed event dropped');
      return this.done(channel, window, msg);
    }
    let pending: Promise<void> | void;
    try {
      pending = this.opts.onEvent(event);
    } catch (err) {
      this.opts.logger.error({ err, messageId: event.message.id }, 'event delivery failed');
      pending = undefined;
    }
    if (pending === undefined) return this.done(channel, window, msg);
    pending.then(
      () => this.done(channel, window, msg),
      (err: unknown) => {
        // Delivery never rejects by design; if it does, requeueing would loop, so log and ack.
        this.opts.logger.error({ err, messageId: event.message.id }, 'event delivery failed');
        this.done(channel, window, msg);
      },
    );
  }

  private done(channel: Channel, window: AckWindow, msg: ConsumeMessage): void {
    if (window !== this.acks || channel !== this.channel) return; // a channel that is gone: its queue went with it
    window.finished(msg);
    if (++this.finishedSinceAck >= Math.max(1, this.opts.prefetch >> 2)) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ACK_INTERVAL_MS);
  }

  /** One ack with `multiple` for every delivery done so far, contiguously from the oldest. */
  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.finishedSinceAck = 0;
    const channel = this.channel;
    const upTo = this.acks.ackable();
    if (channel && upTo) {
      try {
        channel.ack(upTo, true);
      } catch (err) {
        this.opts.logger.warn({ err }, 'ack failed (the channel closed); its queue is gone with it');
      }
    }
    if (this.acks.outstanding === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private lost(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = undefined;
    this.channel = undefined;
    this.consumerTag = undefined;
    void model.close().catch(() => undefined);
    // Deliveries of that channel can no longer be acked; nobody waits for them.
    this.acks = new AckWindow();
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.stopped) return;
    this.opts.logger.warn('not consuming: waiting for the broker');
    this.retry();
  }

  private retry(): void {
    if (!this.stopped) this.reconnect.schedule(() => void this.connectOnce());
  }
}

/**
 * The acks of one channel. Delivery tags count up from 1 per channel; a delivery may finish out
 * of order (one that waited for a lookup finishes after later ones), and `multiple` acks
 * everything up to a tag, so only the contiguous run of finished tags from the oldest unacked
 * one may be acked. Cost: one Set entry per finished-but-not-ackable delivery (at most prefetch).
 */
export class AckWindow {
  /** Every delivery taken and not yet ackable, by tag. */
  private readonly inFlight = new Map<number, ConsumeMessage>();
  private readonly finishedEarly = new Set<number>();
  private nextToAck = 0;
  private lastAckable: ConsumeMessage | undefined;

  get outstanding(): number {
    return this.inFlight.size;
  }

  taken(msg: ConsumeMessage): void {
    const tag = msg.fields.deliveryTag;
    if (this.nextToAck === 0) this.nextToAck = tag;
    this.inFlight.set(tag, msg);
  }

  finished(msg: ConsumeMessage): void {
    const tag = msg.fields.deliveryTag;
    if (tag !== this.nextToAck) {
      this.finishedEarly.add(tag);
      return;
    }
    let last = msg;
    this.inFlight.delete(tag);
    this.nextToAck = tag + 1;
    while (this.finishedEarly.delete(this.nextToAck)) {
      last = this.inFlight.get(this.nextToAck)!;
      this.inFlight.delete(this.nextToAck);
      this.nextToAck++;
    }
    this.lastAckable = last;
  }

  /** The message to ack with `multiple` (everything up to it is finished), once; undefined when nothing new. */
  ackable(): ConsumeMessage | undefined {
    const msg = this.lastAckable;
    this.lastAckable = undefined;
    return msg;
  }
}
