import type { ObjectId } from 'mongodb';
import { LRUCache } from 'lru-cache';
import { Backoff, type BackoffPolicy, type Logger } from '@chat/common/config';
import { isDatabaseOutage } from '@chat/common/mongo';
import type { ChatMetrics } from './chat-metrics.js';
import type { EventSink, PublishItem } from './event-publisher.js';
import type { MessageDoc } from './message.js';
import { buildNewMessageEvent, type TimelineSeqs } from './message-event.js';
import type { MessagesRepository } from './messages-repo.js';
import { appendToTimelines, type Timeline } from './timeline.js';

export interface OutboxRelayOptions {
  messages: MessagesRepository;
  timeline: Timeline;
  publisher: EventSink;
  metrics: ChatMetrics;
  logger: Logger;
  /** Unpublished messages older than this are (re)published by the scan. */
  delayMs: number;
  intervalMs: number;
  batchMax: number;
  /** Batches of the send path in flight at once (they pipeline on one channel). */
  maxConcurrentBatches?: number;
  /** Beyond this many queued events the send path leaves messages to the scan. */
  maxQueued?: number;
  /**
   * The admission's pressure signal (services/common/src/admission.ts): true while requests
   * wait for a slot. The scan and the marks yield to them, for a bounded time.
   */
  pressure?: { readonly saturated: boolean };
  /** The longest a scan is postponed in a row for pressure; {@link PRESSURE_POSTPONE_CAP_MS} by default. */
  maxPostponeMs?: number;
  /** For tests: the jitter's draw. */
  random?: () => number;
}

/** Send-path batches in flight at once by default; the benchmark drives the publisher the same way. */
export const DEFAULT_MAX_CONCURRENT_BATCHES = 8;
/** Ids per mark-published write at most. */
const MARK_BATCH_MAX = 1_000;
/**
 * The least time between two mark-published writes. Each one reads every pending message (its
 * filter is `published: false`), so back-to-back small marks under load read the pending set
 * over and over: one mark per interval reads it about once per interval instead.
 */
const MARK_INTERVAL_MS = 100;
/**
 * The scan after one that failed or was slow (took longer than its interval) waits this curve,
 * from the interval up to 10 s (×0.5..1.5): a scan on the local database reads every pending
 * message, so repeating it each second while the database struggles only adds to the load. 10 s,
 * not more: the scan is also what republishes after a broker fault, so it must come back soon
 * once the database answers.
 */
const SCAN_BACKOFF_CAP_MS = 10_000;
/** The same for the mark-published writes, from 1 s: their marks wait meanwhile (coalesced). */
const MARK_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 10_000, jitter: 0.5 };
/**
 * While requests wait for an admission slot the scan is postponed, re-checked every ~250 ms
 * (×0.5..1.5), but never for longer than this in a row, so the backlog drains even under
 * constant load.
 */
const PRESSURE_RECHECK_MS = 250;
export const PRESSURE_POSTPONE_CAP_MS = 10_000;
/** Under pressure, one mark-published write a second instead of ten (more ids per write). */
const MARK_INTERVAL_UNDER_PRESSURE_MS = 1_000;

/** How one scan went: what paces the next one. */
export type ScanOutcome = 'ok' | 'slow' | 'failed';

interface Pending {
  doc: MessageDoc;
  seqs: TimelineSeqs;
}

interface MarkRequest {
  ids: ObjectId[];
  done: () => void;
}

/**
 * The transactional outbox, both halves of it.
 *
 * - `dispatch` (the send path): a freshly stored message is queued and published at once,
 *   micro-batched with whatever else is being sent, so events arrive with low latency and
 *   bulk confirms. It never blocks or fails the request: if the broker is down the message
 *   simply stays unpublished.
 * - the scan (every `intervalMs`): anything still unpublished after `delayMs` — broker down,
 *   confirm lost, process killed between the insert and the publish — gets its missing
 *   timeline entries (idempotent) and is published again. The same query feeds the
 *   chat_outbox_backlog gauge.
 *
 * A message is marked published only after the broker confirmed it; a crash between confirm
 * and mark means a second publish, which consumers dedupe by id. Marks go through one writer
 * that coalesces every confirm of the last {@link MARK_INTERVAL_MS} into one updateMany, keyed
 * on `published: false` so that it reads only what is pending (mongo-portability.ts, rule 2).
 *
 * Background work yields to requests: a scan or a mark write that fails or takes longer than
 * `intervalMs` makes the next one wait longer (capped exponential backoff with jitter,
 * services/common/src/backoff.ts), and one quick answer restores the normal pace; while
 * requests wait for an admission slot (`pressure`), scans are postponed (for at most
 * {@link PRESSURE_POSTPONE_CAP_MS} in a row) and marks are written once a second. The send
 * path's own publishing is request work and never waits here.
 *
 * Within one process nothing is published twice: the send path claims a message before it
 * is inserted and keeps the claim until its publish is confirmed (then remembered as
 * confirmed until long after its mark) or abandoned to the scan, and the scan skips claimed ids as well as ids confirmed recently (its query
 * result can be older than a concurrent mark). Across replicas, a message whose send path
 * takes longer than `delayMs` may be published by another replica's scan too; that
 * duplicate is harmless by contract.
 */
export class OutboxRelay {
  /** Claimed by the send path or being published by the scan: the scan leaves them alone. */
  private readonly inFlight = new Map<string, ObjectId>();
  /** Confirmed lately, so a scan result read before the mark landed is not published again. */
  private readonly recentlyConfirmed = new LRUCache<string, true>({ max: 200_000, ttl: 5 * 60_000 });
  private queue: Pending[] = [];
  private activeBatches = 0;
  private flushScheduled = false;
  private marks: MarkRequest[] = [];
  private marking = false;
  private lastMarkAt = 0;
  private marksIdle: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;
  private idle: Array<() => void> = [];
  private lastScanError = '';
  private readonly maxConcurrentBatches: number;
  private readonly maxQueued: number;
  private readonly scanBackoff: Backoff;
  private readonly markBackoff: Backoff;
  /** The least time before the next mark write (grows while marks fail or are slow). */
  private markGapMs = MARK_INTERVAL_MS;
  /** When the scan was first postponed for pressure, in this run of postponements. */
  private postponedSince: number | undefined;
  private readonly random: () => number;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.maxConcurrentBatches = opts.maxConcurrentBatches ?? DEFAULT_MAX_CONCURRENT_BATCHES;
    this.maxQueued = opts.maxQueued ?? 20_000;
    this.random = opts.random ?? Math.random;
    this.scanBackoff = new Backoff({ baseMs: opts.intervalMs, capMs: Math.max(opts.intervalMs, SCAN_BACKOFF_CAP_MS), jitter: 0.5 }, this.random);
    this.markBackoff = new Backoff(MARK_BACKOFF, this.random);
  }

  /** Send path, before the insert: this process is about to store and publish this message. */
  claim(id: ObjectId): void {
    this.inFlight.set(id.toHexString(), id);
  }

  /** Send path: the claimed message will not be dispatched (not stored, a repeat, or a failure). */
  release(id: ObjectId): void {
    this.inFlight.delete(id.toHexString());
  }

  /** Send path: publish this stored, claimed message now. Fire-and-forget by design. */
  dispatch(doc: MessageDoc, seqs: TimelineSeqs): void {
    if (this.stopped || !this.opts.publisher.connected || this.queue.length >= this.maxQueued) {
      this.release(doc._id); // left to the scan
      return;
    }
    this.inFlight.set(doc._id.toHexString(), doc._id);
    this.queue.push({ doc, seqs });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One tick of coalescing: concurrent requests share a batch.
      setImmediate(() => {
        this.flushScheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    while (this.queue.length > 0 && this.activeBatches < this.maxConcurrentBatches) {
      const batch = this.queue.splice(0, this.opts.batchMax);
      this.activeBatches++;
      // The send path does not wait for its mark: the confirm is remembered (recentlyConfirmed),
      // so the scan leaves these messages alone while the mark is pending.
      void this.publishAndMark(batch, false)
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'publishing a batch failed; the relay will retry it'))
        .finally(() => {
          for (const { doc } of batch) this.inFlight.delete(doc._id.toHexString());
          this.activeBatches--;
          if (this.queue.length > 0) this.pump();
          else if (this.activeBatches === 0) this.notifyIdle();
        });
    }
  }

  /**
   * Publishes with confirms and marks the confirmed ones published (waiting for the mark when
   * `awaitMark`: the scan reads the outbox again right after); returns how many were confirmed.
   */
  private async publishAndMark(batch: Pending[], awaitMark: boolean): Promise<number> {
    const items: PublishItem[] = batch.map(({ doc, seqs }) => ({ id: doc._id.toHexString(), event: buildNewMessageEvent(doc, seqs) }));
    const confirmed = await this.opts.publisher.publish(items);
    if (confirmed.size === 0) return 0;
    for (const id of confirmed) this.recentlyConfirmed.set(id, true);
    this.opts.metrics.eventsPublished.inc(confirmed.size);
    const marked = this.markPublished(batch.filter(({ doc }) => confirmed.has(doc._id.toHexString())).map(({ doc }) => doc._id));
    if (awaitMark) await marked;
    return confirmed.size;
  }

  /** Resolves once the ids were marked (or the mark failed and was logged). */
  private markPublished(ids: ObjectId[]): Promise<void> {
    return new Promise((resolve) => {
      this.marks.push({ ids, done: resolve });
      if (!this.marking) void this.runMarks();
    });
  }

  private async runMarks(): Promise<void> {
    this.marking = true;
    while (this.marks.length > 0) {
      let gap = this.markGapMs;
      if (this.opts.pressure?.saturated && gap < MARK_INTERVAL_UNDER_PRESSURE_MS) {
        gap = MARK_INTERVAL_UNDER_PRESSURE_MS;
        this.opts.metrics.backgroundDelays.inc({ task: 'outbox_mark', reason: 'pressure' });
      }
      const wait = this.lastMarkAt + gap - Date.now();
      if (wait > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, wait));
      this.lastMarkAt = Date.now();
      const requests: MarkRequest[] = [];
      let count = 0;
      while (this.marks.length > 0 && (count === 0 || count + this.marks[0]!.ids.length <= MARK_BATCH_MAX)) {
        const request = this.marks.shift()!;
        requests.push(request);
        count += request.ids.length;
      }
      const ids = requests.flatMap((r) => r.ids);
      try {
        await this.opts.messages.markPublished(ids);
        this.paceMarks(Date.now() - this.lastMarkAt > this.opts.intervalMs ? 'slow' : undefined);
      } catch (err) {
        this.paceMarks('failed');
        // Published but not marked: the scan publishes them again later (consumers dedupe by
        // id), so they must not stay remembered as confirmed, or the scan would skip them until
        // that memory expires, with the backlog up all the while.
        for (const id of ids) this.recentlyConfirmed.delete(id.toHexString());
        this.opts.logger.warn({ err, count }, 'could not mark events published; they will be published again');
      }
      for (const request of requests) request.done();
    }
    this.marking = false;
    const waiting = this.marksIdle;
    this.marksIdle = [];
    for (const resolve of waiting) resolve();
  }

  /** The gap before the next mark write: back to normal after a quick one, longer after a bad one. */
  private paceMarks(trouble: 'failed' | 'slow' | undefined): void {
    if (trouble === undefined) {
      this.markBackoff.succeeded();
      this.markGapMs = MARK_INTERVAL_MS;
      return;
    }
    this.markGapMs = Math.max(MARK_INTERVAL_MS, this.markBackoff.failed());
    this.opts.metrics.backgroundDelays.inc({ task: 'outbox_mark', reason: trouble });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  /** A scheduled scan: postponed while requests wait (bounded), then run and paced by how it went. */
  private tick(): void {
    const postpone = this.postponeFor(Date.now());
    if (postpone !== undefined) return this.schedule(postpone);
    this.scanning = this.scan()
      .then((outcome) => this.nextScanDelay(outcome))
      .then((delay) => {
        this.scanning = undefined;
        this.schedule(delay);
      });
  }

  /**
   * How long to postpone a scan due at `now` because requests are waiting for an admission slot;
   * undefined to run it now (no pressure, or postponed for {@link PRESSURE_POSTPONE_CAP_MS} already).
   */
  private postponeFor(now: number): number | undefined {
    if (!this.opts.pressure?.saturated || this.stopped) {
      this.postponedSince = undefined;
      return undefined;
    }
    this.postponedSince ??= now;
    const left = this.postponedSince + (this.opts.maxPostponeMs ?? PRESSURE_POSTPONE_CAP_MS) - now;
    if (left <= 0) {
      this.postponedSince = undefined;
      return undefined;
    }
    this.opts.metrics.backgroundDelays.inc({ task: 'outbox_scan', reason: 'pressure' });
    return Math.min(left, Math.round(PRESSURE_RECHECK_MS * (0.5 + this.random())));
  }

  /** The normal interval after a quick scan; after a failed or slow one, the next backoff step. */
  private nextScanDelay(outcome: ScanOutcome): number {
    if (outcome === 'ok') {
      this.scanBackoff.succeeded();
      return this.opts.intervalMs;
    }
    this.opts.metrics.backgroundDelays.inc({ task: 'outbox_scan', reason: outcome });
    return this.scanBackoff.failed();
  }

  /**
   * One pass of the recovery scan (public for tests). `slow`: its query of the outbox took longer
   * than the interval (the database is struggling; publishing a large backlog may take longer
   * without that meaning anything); `failed`: the database did not answer. Between batches of a
   * large backlog it stops early while requests are waiting: the next scan goes on from there.
   */
  async scan(): Promise<ScanOutcome> {
    let slow = false;
    try {
      const connected = await this.opts.publisher.ensureChannel();
      for (;;) {
        // One query both refreshes the backlog gauge and finds what to republish.
        const queryStartedAt = Date.now();
        const found = await this.opts.messages.findUnpublished(this.opts.batchMax + 1);
        const truncated = found.length > this.opts.batchMax;
        this.opts.metrics.outboxBacklog.set(truncated ? await this.opts.messages.countUnpublished() : found.length);
        if (Date.now() - queryStartedAt > this.opts.intervalMs) slow = true;
        if (!connected || this.stopped) break;
        const olderThan = Date.now() - this.opts.delayMs;
        // Claims and confirms are checked after the query: they may have happened while it ran.
        const docs = found
          .slice(0, this.opts.batchMax)
          .filter((doc) => doc.createdAt.getTime() < olderThan && !this.inFlight.has(doc._id.toHexString()) && !this.recentlyConfirmed.has(doc._id.toHexString()));
        if (docs.length === 0) break;
        for (const doc of docs) this.inFlight.set(doc._id.toHexString(), doc._id);
        let confirmed = 0;
        try {
          const seqs = await this.completeTimelines(docs);
          confirmed = await this.publishAndMark(
            docs.map((doc) => ({ doc, seqs: seqs.get(doc._id.toHexString()) ?? {} })),
            true,
          );
        } finally {
          for (const doc of docs) this.inFlight.delete(doc._id.toHexString());
        }
        if (confirmed > 0) this.opts.logger.info({ republished: confirmed }, 'relay published events left unpublished');
        if (confirmed < docs.length || !truncated || this.opts.pressure?.saturated) break;
      }
      this.lastScanError = '';
      return slow ? 'slow' : 'ok';
    } catch (err) {
      // A database outage is expected to pass; log it once per streak, not every tick.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastScanError) {
        this.opts.logger.warn({ err, outage: isDatabaseOutage(err) }, 'outbox scan failed; retrying with backoff');
        this.lastScanError = message;
      }
      return 'failed';
    }
  }

  /**
   * The timeline entries a crash may have left out, so every event carries each participant's
   * cursor. Appending is idempotent: an entry that exists is found, not duplicated.
   */
  private async completeTimelines(docs: MessageDoc[]): Promise<Map<string, TimelineSeqs>> {
    const seqs = await Promise.all(docs.map((doc) => appendToTimelines(this.opts.timeline, doc)));
    return new Map(docs.map((doc, i) => [doc._id.toHexString(), seqs[i]!]));
  }

  private notifyIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  /** Stops the scan and waits (bounded) for batches in flight to be confirmed, then for their marks. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const drained = new Promise<void>((resolve) => {
      if (this.activeBatches === 0 && this.queue.length === 0) resolve();
      else this.idle.push(resolve);
    }).then(
      // Then the marks the send path did not wait for (no interval between them any more).
      () =>
        new Promise<void>((resolve) => {
          if (!this.marking && this.marks.length === 0) resolve();
          else this.marksIdle.push(resolve);
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all([drained, this.scanning]), deadline]);
    clearTimeout(timer);
  }
}
