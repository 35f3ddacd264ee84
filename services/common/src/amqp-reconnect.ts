/**
 * What the two plain-amqplib clients of @chat/common (the gateway's event consumer and the
 * signal bus) share: how a connection is opened, and the capped exponential backoff between
 * attempts after the broker went away. A broker restart must never kill a service, so they
 * retry forever; the delay is back at its minimum once a connection is up. Needs `amqplib`.
 */
import { connect, type ChannelModel } from 'amqplib';

/**
 * A connection with a 10 s heartbeat (unless the URL sets one) and TCP_NODELAY: amqplib writes
 * a large message in pieces, and Nagle's algorithm held the last one back (see broker.ts).
 */
export function openAmqpConnection(url: string): Promise<ChannelModel> {
  const withHeartbeat = new URL(url);
  if (!withHeartbeat.searchParams.has('heartbeat')) withHeartbeat.searchParams.set('heartbeat', '10');
  return connect(withHeartbeat.toString(), { noDelay: true, timeout: 5_000 });
}

export class ReconnectSchedule {
  private delay: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 2_000,
  ) {
    this.delay = minMs;
  }

  /** How long the next attempt will wait. */
  get nextDelayMs(): number {
    return this.delay;
  }

  /** Runs `attempt` after the current delay (replacing one already scheduled), then doubles the delay up to the cap. */
  schedule(attempt: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(attempt, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.maxMs, this.delay * 2);
  }

  /** A connection is up: the next outage starts from the minimum again. */
  connected(): void {
    this.delay = this.minMs;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
