/**
 * Open-loop sends: requests go out at the rate asked for, whatever the server's answers, as
 * many independent users do, so a slow server meets more requests, not fewer (a closed loop
 * would slow down with it and hide the overload). Every request is recorded with its outcome
 * and latency (send-answers.ts).
 *
 * - Many pairs, one conversation each, taken in turn: Chat serializes the appends of one
 *   conversation, so one busy conversation would measure that queue, not the server.
 * - One keep-alive agent with no socket cap: each request in flight has its own connection,
 *   as many clients would; a cap would queue requests inside this process, where the server's
 *   behaviour cannot be seen. Idle sockets close after 4 s, before the server's 5 s
 *   keep-alive timeout, so a reused socket is never one the server is closing.
 * - The client's patience (`timeoutMs`) is longer than any bound the tests assert, so a slow
 *   answer is measured as slow, not hidden as a timeout.
 * - Latency runs from the moment the request is issued. If this process falls behind its
 *   schedule (2 shared cores), it says so in `lagMs` rather than charging the server for it.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { sleep, type TestUser } from '@chat/testkit';
import type { SendAnswer, SendOutcome } from './send-answers.ts';

export interface SendPair {
  sender: TestUser;
  receiver: TestUser;
}

/** One message to send again after an unacknowledged answer (same clientMsgId). */
export interface Resend {
  pair: number;
  clientMsgId: string;
}

const TICK_MS = 2;

export class OpenLoopSends {
  readonly answers: SendAnswer[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4_000 });
  private readonly inFlight = new Set<Promise<void>>();
  private rate = 0;
  private phaseStart = 0;
  private issuedInPhase = 0;
  private next = 0;
  private loop: Promise<void> | undefined;
  private running = false;
  /** The largest delay between a request's due time and its issue. */
  lagMs = 0;

  constructor(
    private readonly pairs: readonly SendPair[],
    private readonly chatUrl: () => string,
    private readonly timeoutMs: number,
  ) {}

  /** Sends at `perSecond` from now on (0 pauses); starts the schedule on the first call. */
  setRate(perSecond: number): void {
    this.rate = perSecond;
    this.phaseStart = Date.now();
    this.issuedInPhase = 0;
    if (!this.running) {
      this.running = true;
      this.loop = this.run();
    }
  }

  /** Stops issuing, and waits for every request in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all(this.inFlight);
  }

  /** Waits until every request issued so far has its answer. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Releases the agent's sockets. */
  close(): void {
    this.agent.destroy();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** One request now, outside the schedule (a retry of `resend` keeps its clientMsgId). */
  sendOnce(resend?: Resend): Promise<SendAnswer> {
    const pair = resend?.pair ?? this.next++ % this.pairs.length;
    return this.issue(pair, resend?.clientMsgId ?? randomUUID());
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const due = Math.floor(((now - this.phaseStart) * this.rate) / 1000);
      if (due > this.issuedInPhase) {
        // The due time of the oldest request not yet issued: how far behind the schedule is.
        this.lagMs = Math.max(this.lagMs, now - (this.phaseStart + (this.issuedInPhase * 1000) / this.rate));
        for (; this.issuedInPhase < due; this.issuedInPhase++) {
          const p = this.issue(this.next++ % this.pairs.length, randomUUID()).then(() => undefined);
          this.inFlight.add(p);
          void p.finally(() => this.inFlight.delete(p));
        }
      }
      await sleep(TICK_MS);
    }
  }

  private issue(pair: number, clientMsgId: string): Promise<SendAnswer> {
    const { sender, receiver } = this.pairs[pair]!;
    const body = JSON.stringify({ to: receiver.username, text: `load ${clientMsgId.slice(0, 8)}`, clientMsgId });
    const startedAt = Date.now();
    return new Promise<SendAnswer>((resolve) => {
      let done = false;
      let connectMs: number | undefined;
      const finish = (outcome: SendOutcome, extra: Partial<SendAnswer> = {}) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const answer: SendAnswer = { startedAt, endedAt: Date.now(), outcome, clientMsgId, pair, ...(connectMs !== undefined ? { connectMs } : {}), ...extra };
        this.answers.push(answer);
        resolve(answer);
      };
      const req = http.request(
        `${this.chatUrl()}/chat/send`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => finish('conn_reset'));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let parsed: { message?: { id?: unknown }; error?: { code?: unknown } } | undefined;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString()) as typeof parsed;
            } catch {
              parsed = undefined;
            }
            const retryAfter = Number(res.headers['retry-after']);
            const extra: Partial<SendAnswer> = {
              status,
              ...(typeof parsed?.error?.code === 'string' ? { code: parsed.error.code } : {}),
              ...(Number.isFinite(retryAfter) && res.headers['retry-after'] !== undefined ? { retryAfter } : {}),
            };
            if ((status === 201 || status === 200) && typeof parsed?.message?.id === 'string') finish(status === 201 ? 'created' : 'repeat', { ...extra, id: parsed.message.id });
            else finish(status === 503 ? 'unavailable' : status >= 500 ? 'server_error' : 'refused', extra);
          });
        },
      );
      // Where a slow answer's time went: a new connection's connect is the server's accept queue.
      req.once('socket', (socket) => {
        if (!req.reusedSocket) socket.once('connect', () => (connectMs = Date.now() - startedAt));
      });
      const timer = setTimeout(() => {
        finish('timeout');
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        finish(code === 'ECONNREFUSED' ? 'conn_refused' : code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up' ? 'conn_reset' : 'network', { code: code || err.message });
      });
      req.end(body);
    });
  }
}
