/**
 * Invariant: while the database is known to be unreachable, no request waits for it. The first
 * operation that fails because no server answers (server selection timed out, connection
 * refused or reset: {@link isDatabaseOutage}) marks the outage; from then on work that would
 * touch the database fails at once with {@link DatabaseUnavailableError} (a 503 with
 * Retry-After), until a probe (a ping every `probeIntervalMs`) succeeds.
 *
 * Why: without it every request waits its own MONGO_TIMEOUT_MS for a server, and requests
 * queued behind a failing one (a conversation's serialized appends, the insert batcher's next
 * batch) wait in turn, so clients time out long before they hear 503 (the fault-injection
 * ledger measured 301 timeouts at 5 s during a 10 s outage). With it a request waits at most
 * one server selection (MONGO_TIMEOUT_MS), and only while the outage is not known yet.
 *
 * Nothing acknowledged is lost by failing fast: the refused work never reached the database,
 * and a client retries a 503 with the same clientMsgId (the idempotency key makes that safe).
 * This is the first brick of issue 17's admission control: one place that says "do not start
 * database work now"; a bound on work in flight can refuse through the same error.
 */
import type { Logger } from './logger.js';

/** Thrown instead of starting database work while an outage is known: an outage, never a bug. */
export class DatabaseUnavailableError extends Error {
  constructor(message = 'the database is unreachable') {
    super(message);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Timers the outage state uses, so a test can drive time by hand. */
export interface OutageClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: OutageClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref(); // a probe never keeps a stopping process alive
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DatabaseOutageOptions {
  /** A cheap command that succeeds only when the database answers (a ping). */
  probe: () => Promise<unknown>;
  /** Pause between the end of a failed probe and the next one. */
  probeIntervalMs: number;
  logger?: Logger;
  /** Called on every change of state (true: the outage began; false: the database answers again). */
  onChange?: (down: boolean) => void;
  clock?: OutageClock;
}

export class DatabaseOutage {
  private downSince: number | undefined;
  private timer: unknown;
  private probing = false;
  private stopped = false;
  private readonly clock: OutageClock;

  constructor(private readonly opts: DatabaseOutageOptions) {
    this.clock = opts.clock ?? realClock;
  }

  /** True while an outage is known (from the first failure until a probe succeeds). */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** How long the current outage has been known, in ms (0 when there is none). */
  get downForMs(): number {
    return this.downSince === undefined ? 0 : this.clock.now() - this.downSince;
  }

  /** What a refused client is told to wait (Retry-After, whole seconds): about one probe. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.opts.probeIntervalMs / 1000));
  }

  /**
   * Records that an operation failed because the database cannot be reached (the caller has
   * classified `cause` with isDatabaseOutage). The first such failure starts the outage and the
   * probes; later ones change nothing.
   */
  markDown(cause: unknown): void {
    if (this.downSince !== undefined || this.stopped) return;
    this.downSince = this.clock.now();
    this.opts.logger?.warn({ err: cause }, 'database unreachable: refusing database work at once until a probe answers');
    this.opts.onChange?.(true);
    this.schedule();
  }

  /** Throws DatabaseUnavailableError while an outage is known; call it before starting database work. */
  assertReachable(): void {
    if (this.downSince !== undefined) throw new DatabaseUnavailableError();
  }

  /** Stops probing (at shutdown); the state stays as it is. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.probing || this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.runProbe();
    }, this.opts.probeIntervalMs);
  }

  private async runProbe(): Promise<void> {
    if (this.stopped || this.downSince === undefined) return;
    this.probing = true;
    let answered = false;
    try {
      await this.opts.probe();
      answered = true;
    } catch {
      // Still down: the next probe after the interval.
    } finally {
      this.probing = false;
    }
    if (this.stopped) return;
    if (!answered) return this.down ? this.schedule() : undefined; // the readiness check may have ended it meanwhile
    this.answered();
  }

  /**
   * The database answered a ping (the probe's, or the readiness check's): a known outage is
   * over. Without the readiness check's word, /readyz could say ready while requests still get
   * 503 until the next probe.
   */
  answered(): void {
    if (this.downSince === undefined) return;
    const downForMs = this.downForMs;
    this.downSince = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.opts.logger?.info({ downForMs }, 'database reachable again');
    this.opts.onChange?.(false);
  }
}
