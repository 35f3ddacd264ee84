/**
 * The load of the fault-injection test, behaving as real clients do, so that what it measures
 * is what users would see:
 * - senders: each message gets a clientMsgId once and keeps it through every retry (after a
 *   timeout, a refused connection or a 503, with capped exponential backoff and jitter), so a
 *   retry of a message whose answer was lost is a repeat (200 with the original), never a
 *   second message;
 * - receivers: @chat/client-core's LiveConnection, the same code as the web page and the
 *   terminal client (reconnect with backoff, resume from the last cursor, dedupe by id), on a
 *   socket that records every `new_message` frame before that dedupe.
 *
 * Every attempt's outcome and latency is kept, so the test can say per fault what clients got
 * (503s, timeouts, 500s) and when sending worked again.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { LiveConnection, type LiveState, type SocketFactory, type SocketLike } from '@chat/client-core';
import { sleep, wsUrl, type TestUser } from '@chat/testkit';
import type { DeliveryLedger } from './delivery-ledger.ts';

export type Outcome = 'created' | 'repeat' | 'unavailable' | 'server_error' | 'refused' | 'timeout' | 'network';

export interface Attempt {
  startedAt: number;
  endedAt: number;
  outcome: Outcome;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** The error code of an answer that was not a success. */
  code?: string;
}

export interface SenderOptions {
  chatUrl: () => string;
  /** Messages per second per pair. */
  perSecond: number;
  /** Sends of one sender waiting for an answer at once; a tick with none free is skipped. */
  maxInFlight: number;
  /** A real client's patience per attempt (issue 17's clients: 5 s). */
  attemptTimeoutMs: number;
}

const backoffMs = (attempt: number) => Math.min(2_000, 200 * 2 ** (attempt - 1)) * (0.5 + Math.random());

/** One sender per pair, sending to its receiver at a fixed rate, retrying each message until it is acknowledged or `stop` gives up. */
export class LedgerSenders {
  readonly attempts: Attempt[] = [];
  private running = true;
  private giveUpAt = Infinity;
  private loops: Promise<void>[] = [];
  private unresolvedCount = 0;
  private sentCount = 0;

  constructor(
    private readonly pairs: Array<{ sender: TestUser; receiver: TestUser }>,
    private readonly ledger: DeliveryLedger,
    private readonly opts: SenderOptions,
  ) {}

  start(): void {
    this.loops = this.pairs.map((pair, i) => this.loop(pair, i));
  }

  /** Messages started (each counted once, whatever its retries). */
  get sent(): number {
    return this.sentCount;
  }

  /** Messages still not acknowledged when `stop` gave up on them. */
  get unresolved(): number {
    return this.unresolvedCount;
  }

  /** The first answer in [from, ∞) to an attempt started at or after `from` that stored or found its message. */
  firstSuccessSince(from: number): number | undefined {
    let best: number | undefined;
    for (const a of this.attempts)
      if (a.startedAt >= from && (a.outcome === 'created' || a.outcome === 'repeat') && (best === undefined || a.endedAt < best)) best = a.endedAt;
    return best;
  }

  /** Stops starting messages, then waits for those in flight, retrying each for at most `drainMs`. */
  async stop(drainMs: number): Promise<void> {
    this.running = false;
    this.giveUpAt = Date.now() + drainMs;
    await Promise.all(this.loops);
  }

  private async loop(pair: { sender: TestUser; receiver: TestUser }, index: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    // Spread the pairs' ticks over the period, so 20 pairs do not send in one burst.
    const period = 1000 / this.opts.perSecond;
    let due = Date.now() + (period * index) / this.pairs.length;
    let n = 0;
    while (this.running) {
      if (Date.now() < due) await sleep(due - Date.now());
      due += period;
      if (Date.now() > due + 5 * period) due = Date.now(); // fell behind (a fault): no burst to catch up
      if (!this.running || inFlight.size >= this.opts.maxInFlight) continue;
      const p = this.deliver(pair, `${pair.sender.username} #${n++}`).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }

  /** One message, through as many attempts as it takes. */
  private async deliver(pair: { sender: TestUser; receiver: TestUser }, text: string): Promise<void> {
    this.sentCount++;
    const clientMsgId = randomUUID();
    const firstTriedAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(pair, text, clientMsgId);
      this.attempts.push(result.attempt);
      if (result.id !== undefined) {
        this.ledger.acknowledge({
          id: result.id,
          clientMsgId,
          sender: pair.sender.username,
          receiver: pair.receiver.username,
          status: result.attempt.outcome === 'created' ? 201 : 200,
          firstTriedAt,
          ackedAt: result.attempt.endedAt,
          attempts: attempt,
        });
        return;
      }
      // A 4xx other than 503 will not get better by retrying: the test reports it.
      if (result.attempt.outcome === 'refused') return;
      const wait = backoffMs(attempt);
      if (Date.now() + wait > this.giveUpAt) {
        this.unresolvedCount++;
        return;
      }
      await sleep(wait);
    }
  }

  private async attempt(pair: { sender: TestUser; receiver: TestUser }, text: string, clientMsgId: string): Promise<{ attempt: Attempt; id?: string }> {
    const startedAt = Date.now();
    const done = (outcome: Outcome, extra: Partial<Attempt> = {}) => ({ startedAt, endedAt: Date.now(), outcome, ...extra });
    try {
      const res = await fetch(`${this.opts.chatUrl()}/chat/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pair.sender.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: pair.receiver.username, text, clientMsgId }),
        signal: AbortSignal.timeout(this.opts.attemptTimeoutMs),
      });
      const body = (await res.json().catch(() => undefined)) as { message?: { id?: string }; error?: { code?: string } } | undefined;
      if ((res.status === 201 || res.status === 200) && typeof body?.message?.id === 'string')
        return { attempt: done(res.status === 201 ? 'created' : 'repeat', { status: res.status }), id: body.message.id };
      const outcome: Outcome = res.status === 503 ? 'unavailable' : res.status >= 500 ? 'server_error' : 'refused';
      return { attempt: done(outcome, { status: res.status, code: body?.error?.code }) };
    } catch (err) {
      const name = (err as Error).name;
      return { attempt: done(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network') };
    }
  }
}

export interface ReceiverStats {
  username: string;
  gateway: number;
  state: LiveState;
  /** Sockets opened (the first one included). */
  connects: number;
  /** Close codes the receiver saw, with how often. */
  closes: Record<string, number>;
  resyncRequired: number;
}

/**
 * One device per receiver on `gatewayUrl`, through LiveConnection; every `new_message` frame
 * goes to the ledger before the client's own dedupe sees it.
 */
export class LedgerReceiver {
  readonly stats: ReceiverStats;
  private readonly live: LiveConnection;

  constructor(user: TestUser, gatewayUrl: string, gateway: number, ledger: DeliveryLedger) {
    this.stats = { username: user.username, gateway, state: 'stopped', connects: 0, closes: {}, resyncRequired: 0 };
    const stats = this.stats;
    const connect: SocketFactory = (url) => {
      stats.connects++;
      const ws = new WebSocket(url, { handshakeTimeout: 10_000 });
      const socket: SocketLike = {
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
      };
      ws.onopen = (ev) => socket.onopen?.(ev);
      ws.onerror = (ev) => socket.onerror?.(ev);
      ws.onclose = (ev) => {
        stats.closes[ev.code] = (stats.closes[ev.code] ?? 0) + 1;
        socket.onclose?.({ code: ev.code, reason: ev.reason });
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data === 'string') {
          let frame: { type?: string; message?: { id?: string } } | undefined;
          try {
            frame = JSON.parse(ev.data) as typeof frame;
          } catch {
            /* not a frame of the protocol: the client ignores it too */
          }
          if (frame?.type === 'new_message' && typeof frame.message?.id === 'string') ledger.frame(user.username, frame.message.id);
        }
        socket.onmessage?.({ data: ev.data });
      };
      return socket;
    };
    this.live = new LiveConnection({
      gatewayUrl: wsUrl(gatewayUrl),
      token: () => user.token,
      connect,
      onStatus: (s) => (stats.state = s.state),
      onResyncRequired: () => void stats.resyncRequired++,
    });
  }

  start(): void {
    this.live.start();
  }

  get state(): LiveState {
    return this.live.state;
  }

  stop(): void {
    this.live.stop();
  }
}
