/**
 * Invariant: a process never has more than `maxInFlight` requests doing database work, and no
 * request waits longer than `maxWaitMs` to start: past that it is refused (503 with Retry-After)
 * at once, so every client hears an answer within the wait budget plus one request's own time.
 *
 * Why a bound and a budget, not just a queue: a database saturated by more concurrent work than
 * it can do gets slower for all of it, and requests queued without a limit wait until their
 * clients give up, retry, and queue again: the spiral issue 17 measured (a restarted Chat, a
 * saturated local database, 1,121 client timeouts and no recovery). A bound keeps the database
 * at the concurrency it serves best; the budget turns the excess into fast 503s that clients
 * retry after Retry-After instead of timeouts they retry at once. Waiting at all (instead of
 * refusing whenever every slot is taken) absorbs the short bursts a steady load has.
 *
 * A request is refused at arrival, without waiting, when the queue is full or when the queue
 * ahead of it cannot be served within the budget at the recent pace (`(position + 1) × the
 * mean hold time ÷ maxInFlight`): waiting would only delay the same 503.
 *
 * Drain: `drain()` refuses everything queued and everything new; `abandonRunning()` ends the
 * requests still running with the same refusal, so that a process about to close its database
 * client answers 503, never a 500 from work cut short.
 *
 * Deadline: the wait is bounded, the work is not. When the database stalls, every admitted
 * request holds its slot for as long as it stalls, and its client with it (a CI run of issue
 * 17's overload test: 64 answers over 1 s by Chat's own clock at a wait budget of 150 ms).
 * `track(work, answerWithinMs)` answers such a request with a refusal ('deadline') once that time is up; its work goes on
 * and keeps its slot until it ends, since the bound is on database work, not on answers. Only
 * for requests a client may repeat harmlessly (the caller decides which): the refusal does not
 * say whether the work took effect.
 *
 * Cost: O(1) per request admitted at once; a waiting one costs a timer and a place in a FIFO of
 * at most `maxQueued` (its shift and the timeout's splice are O(maxQueued), a few hundred at
 * most). The hold-time mean is an exponentially weighted average over about the last 32 requests.
 */

/** Why a request was refused: the label of `<service>_admission_shed_total`. */
export type AdmissionShedReason = 'queue_full' | 'wait_budget' | 'deadline' | 'draining';

const REFUSAL_MESSAGES: Record<AdmissionShedReason, string> = {
  queue_full: 'the service is at capacity, retry shortly',
  wait_budget: 'the service is at capacity, retry shortly',
  deadline: 'the service could not finish in time, retry shortly (a repeat with the same clientMsgId is answered with the original)',
  draining: 'the service is shutting down, retry shortly',
};

export class AdmissionRefusedError extends Error {
  constructor(readonly reason: AdmissionShedReason) {
    super(REFUSAL_MESSAGES[reason]);
    this.name = 'AdmissionRefusedError';
  }
}

/** What the admission reports, for metrics. */
export interface AdmissionObserver {
  changed?(inFlight: number, queued: number): void;
  admitted?(waitedMs: number): void;
  shed?(reason: AdmissionShedReason): void;
}

export interface AdmissionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: AdmissionClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface AdmissionOptions {
  maxInFlight: number;
  maxWaitMs: number;
  /** Waiting requests at most (default 4 × maxInFlight). */
  maxQueued?: number;
  observer?: AdmissionObserver;
  clock?: AdmissionClock;
}

/** Ends an admitted request's hold on its slot; calling it twice is harmless. */
export type ReleaseSlot = () => void;

interface Waiter {
  arrivedAt: number;
  timer: unknown;
  resolve: (release: ReleaseSlot) => void;
  reject: (err: AdmissionRefusedError) => void;
}

interface Running {
  abandon: (err: AdmissionRefusedError) => void;
}

/** Weight of the newest hold time in the mean: about the last 32 requests count. */
const HOLD_WEIGHT = 1 / 32;

export class Admission {
  readonly maxInFlight: number;
  readonly maxWaitMs: number;
  readonly maxQueued: number;
  private active = 0;
  private readonly waiters: Waiter[] = [];
  private readonly running = new Set<Running>();
  private meanHoldMs = 0;
  private draining = false;
  private readonly clock: AdmissionClock;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: AdmissionOptions) {
    if (!(opts.maxInFlight >= 1) || !(opts.maxWaitMs >= 0)) throw new RangeError('maxInFlight must be ≥ 1 and maxWaitMs ≥ 0');
    this.maxInFlight = opts.maxInFlight;
    this.maxWaitMs = opts.maxWaitMs;
    this.maxQueued = opts.maxQueued ?? 4 * opts.maxInFlight;
    this.clock = opts.clock ?? realClock;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** True while requests wait for a slot: background work that shares the database should yield. */
  get saturated(): boolean {
    return this.waiters.length > 0;
  }

  /**
   * A slot: at once when one is free and nobody waits; otherwise after waiting in turn, at most
   * `maxWaitMs`. Rejects with AdmissionRefusedError when the request must be refused.
   */
  acquire(): Promise<ReleaseSlot> {
    if (this.draining) return this.refuse('draining');
    if (this.active < this.maxInFlight && this.waiters.length === 0) return Promise.resolve(this.take(this.clock.now()));
    const position = this.waiters.length;
    if (position >= this.maxQueued || ((position + 1) * this.meanHoldMs) / this.maxInFlight > this.maxWaitMs) return this.refuse('queue_full');
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter: Waiter = { arrivedAt: this.clock.now(), timer: undefined, resolve, reject };
      waiter.timer = this.clock.setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at < 0) return;
        this.waiters.splice(at, 1);
        this.report();
        this.opts.observer?.shed?.('wait_budget');
        reject(new AdmissionRefusedError('wait_budget'));
      }, this.maxWaitMs);
      this.waiters.push(waiter);
      this.report();
    });
  }

  /**
   * Runs `work` (an admitted request) so that `abandonRunning()` can end it with a refusal, and,
   * with `answerWithinMs`, so that it is refused ('deadline') when it has not ended by then. The
   * work itself goes on (its outcome is ignored once refused); only its answer changes. The
   * caller releases the slot when the work ends, not when the answer does.
   */
  track<T>(work: Promise<T>, answerWithinMs?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: unknown;
      const untrack = () => {
        this.running.delete(entry);
        if (timer !== undefined) this.clock.clearTimeout(timer);
      };
      const entry: Running = { abandon: (err) => (untrack(), reject(err)) };
      this.running.add(entry);
      if (answerWithinMs !== undefined) {
        timer = this.clock.setTimeout(() => {
          untrack();
          this.opts.observer?.shed?.('deadline');
          reject(new AdmissionRefusedError('deadline'));
        }, Math.max(0, answerWithinMs));
      }
      work.then(
        (value) => (untrack(), resolve(value)),
        (err: unknown) => (untrack(), reject(err)),
      );
    });
  }

  /** Refuses every queued request and every later one ('draining'). */
  drain(): void {
    this.draining = true;
    for (const waiter of this.waiters.splice(0)) {
      this.clock.clearTimeout(waiter.timer);
      this.opts.observer?.shed?.('draining');
      waiter.reject(new AdmissionRefusedError('draining'));
    }
    this.report();
  }

  /** Resolves when no admitted request is running, or after `timeoutMs`; true when none is. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(this.active === 0), timeoutMs);
      this.idleWaiters.push(() => (clearTimeout(timer), resolve(true)));
    });
  }

  /** Ends every running request with a 'draining' refusal (before the database client closes). */
  abandonRunning(): number {
    const running = [...this.running];
    this.running.clear();
    for (const entry of running) {
      this.opts.observer?.shed?.('draining');
      entry.abandon(new AdmissionRefusedError('draining'));
    }
    return running.length;
  }

  private refuse(reason: AdmissionShedReason): Promise<never> {
    this.opts.observer?.shed?.(reason);
    return Promise.reject(new AdmissionRefusedError(reason));
  }

  private take(arrivedAt: number): ReleaseSlot {
    this.active++;
    const startedAt = this.clock.now();
    this.opts.observer?.admitted?.(startedAt - arrivedAt);
    this.report();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.clock.now() - startedAt;
      this.meanHoldMs += (held - this.meanHoldMs) * HOLD_WEIGHT;
      this.active--;
      this.next();
    };
  }

  /** Gives a freed slot to the longest waiter. */
  private next(): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.clock.clearTimeout(waiter.timer);
      waiter.resolve(this.take(waiter.arrivedAt));
      return;
    }
    this.report();
    if (this.active === 0 && this.idleWaiters.length > 0) for (const done of this.idleWaiters.splice(0)) done();
  }

  private report(): void {
    this.opts.observer?.changed?.(this.active, this.waiters.length);
  }
}
