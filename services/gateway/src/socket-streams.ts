import { decodeCursor, encodeCursor, type ChatMessage } from '@chat/common/contracts';
import { backoffDelay, ConcurrencyLimiter, type BackoffPolicy, type Logger } from '@chat/common/config';
import { SyncError, type ReadSyncPage, type SyncPage } from './chat-sync-client.js';
import type { LiveFrame } from './delivery.js';
import { errorFrame, messageFrame, messageFrameHead, RESYNC_REQUIRED_FRAME, syncedFrame, type ParsedClientFrame } from './frames.js';
import type { GatewayMetrics } from './metrics.js';
import { ResumeWindows } from './resume-windows.js';
import type { SocketSender } from './socket-sender.js';
import { closeSocket, type GatewaySocket, type SocketState } from './socket-state.js';
import type { SocketHooks } from './ws-handler.js';

export interface SocketStreamsDeps {
  sender: SocketSender;
  readSyncPage: ReadSyncPage;
  /** The token a replay for this user reads Chat with (the registry keeps one per user). */
  tokenOf: (userId: string) => string | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Most messages one replay sends; past it the client gets `resync_required`. */
  replayLimit: number;
  pageSize: number;
  /** How long live frames wait after connect for a possible `resume` first frame. */
  resumeWindowMs: number;
  /** Sync reads in flight at once across all sockets (protects Chat from a reconnect storm). */
  maxConcurrentReplays: number;
  /** How a read Chat shed, did not answer in time or could not take is tried again; {@link REPLAY_RETRY} by default. */
  retry?: ReplayRetryPolicy;
}

export interface ReplayRetryPolicy {
  /** Tries of one page read after the first; past them the replay fails (close 1013). */
  retries: number;
  /** The wait before each retry (at least Chat's Retry-After). */
  backoff: BackoffPolicy;
  /** The longest Retry-After honoured for one wait (a longer one is cut to this). */
  maxRetryAfterMs: number;
  /** For tests: the jitter's draw. */
  random?: () => number;
}

/**
 * A replay read that Chat shed (503 with Retry-After from its admission), that timed out, or
 * that found Chat unreachable (restarting) is tried again after max(Retry-After, backoff):
 * 0.5, 1, 2, 4, 8 s, each ×0.5..1.5, so up to 5 retries over 7.5–23 s (15.5 s nominal), which
 * outlasts a Chat restart. Only then does the replay fail and its socket close with 1013, as
 * before. The wait keeps the replay's REPLAY_CONCURRENCY slot: while Chat sheds, this gateway
 * sends it fewer reads, not the same number for other sockets.
 */
export const REPLAY_RETRY: ReplayRetryPolicy = { retries: 5, backoff: { baseMs: 500, capMs: 8_000, jitter: 0.5 }, maxRetryAfterMs: 10_000 };

interface ReplayEntry {
  message: ChatMessage;
  cursor: string | undefined;
  seq: number | undefined;
}

interface ReplayResult {
  entries: ReplayEntry[];
  /** Chat's cursor after the last page read. */
  cursor: string;
  overLimit: boolean;
}

/**
 * One socket's stream: where the socket stands in its user's timeline, and the live frames held
 * back for it. The streams alone read and write it, so it lives here, not in the socket's state.
 * It exists only while it holds something: an idle socket that was sent nothing has none.
 */
interface SocketStream {
  readonly ws: GatewaySocket;
  readonly socket: SocketState;
  /** Position of the last message frame sent, in this user's timeline; undefined until one was. */
  lastSeq: number | undefined;
  lastCursor: string | undefined;
  /** Live frames held back while a replay runs or while waiting for a possible resume frame. */
  held: LiveFrame[] | undefined;
  /** More live frames arrived than may be held; the next replay pass picks them up from Chat. */
  heldOverflow: boolean;
  /**
   * The live frame whose gap the running replay fills (held first), if the replay started from
   * one; only that frame may be sent past a hole Chat could not fill.
   */
  gapFrame: LiveFrame | undefined;
  /** Live frames are held for a possible `resume` first frame (see ResumeWindows). */
  inResumeWindow: boolean;
  replaying: boolean;
  /** Ends the wait before a retried read at once (the socket closed). */
  wakeRetry: (() => void) | undefined;
}

function newSocketStream(ws: GatewaySocket): SocketStream {
  return {
    ws,
    socket: ws.getUserData(),
    lastSeq: undefined,
    lastCursor: undefined,
    held: undefined,
    heldOverflow: false,
    gapFrame: undefined,
    inResumeWindow: false,
    replaying: false,
    wakeRetry: undefined,
  };
}

/**
 * One ordered stream per socket, which every live frame to that socket goes through: gap-free,
 * without duplicates, with replays from Chat for what the socket missed.
 *
 * Every message frame carries the receiving user's cursor, whose `seq` is the message's position
 * in that user's timeline (consecutive numbers, see Chat's timeline.ts). Per socket the gateway
 * remembers the last `seq` it sent, and enforces that frames only ever advance by one:
 *
 * - a live frame at or below it is a duplicate (a replay already sent it, or the outbox
 *   published an event twice) and is skipped;
 * - a live frame further ahead means this socket missed something (an event lost in a broker
 *   restart, or two Chat replicas publishing out of order): the gateway holds live frames,
 *   reads the hole from Chat's `sync` with the user's token, sends it as `replayed` frames, and
 *   releases the held frames, deduplicated;
 * - a resume (`since` on connect, or a first `resume` frame) is the same replay, announced with
 *   `synced` at its end.
 *
 * So a client that stores the cursor of each frame it processes can always resume from it.
 */
export class SocketStreams implements SocketHooks {
  private readonly limiter: ConcurrencyLimiter;
  /**
   * Each socket's stream, made on first use and dropped when it holds nothing any more. Weak: a
   * socket that is gone takes its stream along.
   */
  private readonly streams = new WeakMap<GatewaySocket, SocketStream>();
  private readonly windows: ResumeWindows<SocketStream>;
  private readonly retry: ReplayRetryPolicy;

  constructor(private readonly deps: SocketStreamsDeps) {
    this.retry = deps.retry ?? REPLAY_RETRY;
    this.limiter = new ConcurrencyLimiter(deps.maxConcurrentReplays);
    this.windows = new ResumeWindows({ windowMs: deps.resumeWindowMs, onEnd: (stream) => this.endResumeWindow(stream) });
  }

  /** The delivery sink: live frames enter here for each local socket. */
  readonly deliverLive = (ws: GatewaySocket, frame: LiveFrame): void => {
    if (ws.getUserData().closedBy !== undefined) return;
    const stream = this.streamOf(ws);
    if (stream.held) {
      this.hold(stream, frame);
      return;
    }
    this.deliverInOrder(stream, frame, true);
    this.dropIfEmpty(stream);
  };

  onOpen(ws: GatewaySocket): void {
    const socket = ws.getUserData();
    const { since } = socket;
    if (since !== undefined) {
      socket.since = undefined;
      // Resumed in the URL: a later `resume` frame is not the first frame any more.
      socket.sawFirstFrame = true;
      this.startReplay(this.streamOf(ws), since, true);
      return;
    }
    if (this.deps.resumeWindowMs > 0) {
      const stream = this.streamOf(ws);
      stream.held = [];
      stream.inResumeWindow = true;
      this.windows.open(stream);
    }
  }

  onFrame(ws: GatewaySocket, parsed: ParsedClientFrame): boolean {
    const socket = ws.getUserData();
    const first = !socket.sawFirstFrame;
    socket.sawFirstFrame = true;
    if (parsed.ok && parsed.frame.type === 'resume') {
      if (!first) {
        this.deps.sender.send(ws, errorFrame('bad_frame', 'resume must be the first frame on a connection'));
        return true;
      }
      this.startReplay(this.streamOf(ws), parsed.frame.since, true);
      return true;
    }
    // Any other first frame: the client is not resuming, live frames flow now.
    if (first) {
      const stream = this.streams.get(ws);
      if (stream) this.endResumeWindow(stream);
    }
    return false;
  }

  onClose(ws: GatewaySocket): void {
    const stream = this.streams.get(ws);
    if (!stream) return;
    stream.inResumeWindow = false;
    stream.held = undefined;
    stream.gapFrame = undefined;
    // A replay waiting to retry gives its slot back now, not after its wait.
    stream.wakeRetry?.();
    this.streams.delete(ws);
  }

  /**
   * After a broker outage events may have been lost for every socket here: check each socket
   * that has a position against Chat (sockets without one have received nothing yet; their
   * client resumes from its own cursor).
   */
  fillAll(sockets: GatewaySocket[]): void {
    let started = 0;
    for (const ws of sockets) {
      const stream = this.streams.get(ws);
      if (!stream || stream.socket.closedBy !== undefined || stream.replaying || stream.held || stream.lastCursor === undefined) continue;
      this.startReplay(stream, stream.lastCursor, false);
      started++;
    }
    this.deps.logger.info({ sockets: started }, 'checking open sockets for events lost during the broker outage');
  }

  /** For the drain: releases resume-window holds and waits (bounded) for running replays. */
  async settle(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.limiter.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    // Let the finished replays' continuations (which send and release held frames) run.
    await new Promise((resolve) => setImmediate(resolve));
  }

  endAllResumeWindows(sockets: GatewaySocket[]): void {
    for (const ws of sockets) {
      const stream = this.streams.get(ws);
      if (stream) this.endResumeWindow(stream);
    }
  }

  private streamOf(ws: GatewaySocket): SocketStream {
    let stream = this.streams.get(ws);
    if (!stream) {
      stream = newSocketStream(ws);
      this.streams.set(ws, stream);
    }
    return stream;
  }

  /** Forgets a stream that holds nothing: its socket is back to costing no stream at all. */
  private dropIfEmpty(stream: SocketStream): void {
    if (stream.held || stream.replaying || stream.inResumeWindow || stream.lastSeq !== undefined || stream.lastCursor !== undefined) return;
    if (this.streams.get(stream.ws) === stream) this.streams.delete(stream.ws);
  }

  private endResumeWindow(stream: SocketStream): void {
    if (!stream.inResumeWindow) return;
    stream.inResumeWindow = false;
    if (!stream.replaying && stream.socket.closedBy === undefined) this.releaseHeld(stream);
  }

  private hold(stream: SocketStream, frame: LiveFrame): void {
    if (stream.held!.length < this.deps.replayLimit) {
      stream.held!.push(frame);
      return;
    }
    // Bounded. While only waiting for a resume frame, a flood ends the wait: send what is held
    // and go live. Behind a replay, whatever does not fit is in Chat and is read by another pass.
    if (!stream.replaying && stream.inResumeWindow) {
      stream.held!.push(frame);
      this.endResumeWindow(stream);
    } else {
      stream.heldOverflow = true;
    }
  }

  private deliverInOrder(stream: SocketStream, frame: LiveFrame, allowGapFill: boolean): void {
    if (frame.seq !== undefined && stream.lastSeq !== undefined) {
      if (frame.seq <= stream.lastSeq) return;
      if (frame.seq > stream.lastSeq + 1 && allowGapFill && stream.lastCursor !== undefined) {
        stream.held = [frame];
        stream.gapFrame = frame;
        this.startReplay(stream, stream.lastCursor, false);
        return;
      }
    }
    if (!this.deps.sender.send(stream.ws, frame.frame)) return;
    if (frame.seq !== undefined) {
      stream.lastSeq = frame.seq;
      stream.lastCursor = frame.cursor;
    }
  }

  /**
   * Sends the messages after `since` from Chat, holding live frames meanwhile. `announce`: a
   * client-requested resume (ends with `synced`) rather than a gap the gateway found itself.
   */
  private startReplay(stream: SocketStream, since: string, announce: boolean): void {
    const { ws, socket } = stream;
    stream.inResumeWindow = false;
    stream.held ??= [];
    stream.replaying = true;
    const from = decodeCursor(since);
    if (!from || from.userId !== socket.user.id) {
      this.finishWithoutReplay(stream, 'invalid_cursor', announce);
      return;
    }
    this.limiter
      .run(() => (socket.closedBy !== undefined ? Promise.resolve(undefined) : this.readReplay(stream, since, from.seq)))
      .then(
        (result) => {
          if (result && socket.closedBy === undefined) this.applyReplay(stream, result, announce);
        },
        (err: unknown) => {
          if (socket.closedBy !== undefined) return;
          if (err instanceof SyncError && err.kind === 'invalid_cursor') return this.finishWithoutReplay(stream, 'invalid_cursor', announce);
          this.deps.metrics.replays.inc({ result: 'failed' });
          this.deps.logger.warn({ err, userId: socket.user.id }, 'replay failed; closing the socket so the client resumes later');
          if (err instanceof SyncError && err.kind === 'unauthorized' && socket.exp <= Date.now() / 1000) closeSocket(ws, 'token_expired');
          else closeSocket(ws, 'replay_unavailable');
        },
      );
  }

  private async readReplay(stream: SocketStream, since: string, sinceSeq: number): Promise<ReplayResult | undefined> {
    const { socket } = stream;
    const userId = socket.user.id;
    const entries: ReplayEntry[] = [];
    let cursor = since;
    let afterSeq = sinceSeq;
    for (;;) {
      const limit = Math.min(this.deps.pageSize, this.deps.replayLimit + 1 - entries.length);
      const page = await this.readPage(stream, cursor, limit);
      if (page === undefined || socket.closedBy !== undefined) return undefined;
      const end = decodeCursor(page.cursor);
      if (!end || end.userId !== userId) throw new SyncError('unavailable', 'chat answered a cursor of another user');
      // Timeline positions are consecutive, so a page's positions follow from where it started;
      // checked against the page's end cursor before relying on it.
      const consecutive = end.seq === afterSeq + page.messages.length;
      page.messages.forEach((message, i) => {
        let entryCursor: string | undefined;
        const own = typeof message.cursor === 'string' ? decodeCursor(message.cursor) : undefined;
        if (own && own.userId === userId) entryCursor = message.cursor;
        else if (consecutive) entryCursor = encodeCursor({ userId, seq: afterSeq + i + 1 });
        else if (i === page.messages.length - 1) entryCursor = page.cursor;
        entries.push({ message, cursor: entryCursor, seq: entryCursor === undefined ? undefined : decodeCursor(entryCursor)?.seq });
      });
      cursor = page.cursor;
      afterSeq = end.seq;
      if (entries.length > this.deps.replayLimit) return { entries, cursor, overLimit: true };
      if (!page.hasMore || page.messages.length === 0) return { entries, cursor, overLimit: false };
    }
  }

  /**
   * One page from Chat, tried again after a transient failure (see {@link REPLAY_RETRY});
   * undefined when the socket closed meanwhile or its user has no token here any more.
   */
  private async readPage(stream: SocketStream, after: string, limit: number): Promise<SyncPage | undefined> {
    const { socket } = stream;
    for (let retry = 0; ; retry++) {
      const token = this.deps.tokenOf(socket.user.id);
      // No token: none of this user's sockets is open any more (this one closed meanwhile).
      if (token === undefined) return undefined;
      try {
        return await this.deps.readSyncPage(token, after, limit);
      } catch (err) {
        if (!(err instanceof SyncError) || err.transient === undefined || retry >= this.retry.retries) throw err;
        if (socket.closedBy !== undefined) return undefined;
        const backoff = backoffDelay(retry, this.retry.backoff, this.retry.random);
        const waitMs = Math.max(backoff, Math.min(err.retryAfterMs ?? 0, this.retry.maxRetryAfterMs));
        this.deps.metrics.replayRetries.inc({ reason: err.transient });
        await this.waitBeforeRetry(stream, waitMs);
        if (socket.closedBy !== undefined) return undefined;
      }
    }
  }

  /** Waits `ms`, or less if the socket closes meanwhile. */
  private waitBeforeRetry(stream: SocketStream, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stream.wakeRetry = undefined;
        resolve();
      }
      stream.wakeRetry = done;
    });
  }

  private applyReplay(stream: SocketStream, result: ReplayResult, announce: boolean): void {
    const { ws } = stream;
    const { sender, metrics } = this.deps;
    if (result.overLimit) {
      // Too far behind for a replay: the client pages history instead. Live delivery goes on,
      // and the next live frame becomes the new starting point (no gap-fill towards the old one).
      sender.send(ws, RESYNC_REQUIRED_FRAME);
      metrics.replays.inc({ result: 'resync_required' });
      stream.lastSeq = undefined;
      stream.lastCursor = undefined;
      this.releaseHeld(stream);
      return;
    }
    for (const entry of result.entries) {
      if (!sender.send(ws, messageFrame(messageFrameHead(entry.message), entry.cursor, true))) return;
      if (entry.seq !== undefined) {
        stream.lastSeq = entry.seq;
        stream.lastCursor = entry.cursor;
      }
    }
    // Chat's cursor is the position reached (`since` itself when nothing was new).
    const reached = decodeCursor(result.cursor);
    if (reached && (stream.lastSeq === undefined || reached.seq >= stream.lastSeq)) {
      stream.lastSeq = reached.seq;
      stream.lastCursor = result.cursor;
    }
    if (announce) {
      if (!sender.send(ws, syncedFrame(result.cursor))) return;
      metrics.replays.inc({ result: 'synced' });
    }
    this.releaseHeld(stream);
  }

  private finishWithoutReplay(stream: SocketStream, code: 'invalid_cursor', announce: boolean): void {
    this.deps.metrics.replays.inc({ result: code });
    if (announce) this.deps.sender.send(stream.ws, errorFrame('invalid_cursor', 'the cursor is not valid for this user; resume from history instead'));
    this.releaseHeld(stream);
  }

  /**
   * Sends the held live frames in arrival order through the same ordering rules. If one of them
   * opens a new gap, a new replay starts and the rest stay held behind it. The frame whose gap
   * the replay just filled (`gapFrame`) is sent even if Chat had nothing for that gap, rather than
   * asking again (never loop on a hole Chat cannot fill). Any other held frame is checked like a
   * live one: a replay that did not start from a gap (the check after a broker outage, a resume,
   * a pass for overflowed frames) read Chat before that frame was stored, so a hole in front of
   * it is real and is filled first.
   */
  private releaseHeld(stream: SocketStream): void {
    const held = stream.held ?? [];
    const overflow = stream.heldOverflow;
    const gapFrame = stream.gapFrame;
    stream.held = undefined;
    stream.heldOverflow = false;
    stream.gapFrame = undefined;
    stream.replaying = false;
    for (let i = 0; i < held.length; i++) {
      if (stream.socket.closedBy !== undefined) return;
      this.deliverInOrder(stream, held[i]!, held[i] !== gapFrame);
      if (stream.held) {
        // A new replay started: keep the remaining frames behind it, in order.
        for (let j = i + 1; j < held.length; j++) this.hold(stream, held[j]!);
        if (overflow) stream.heldOverflow = true;
        return;
      }
    }
    if (overflow && stream.socket.closedBy === undefined) {
      if (stream.lastCursor !== undefined) this.startReplay(stream, stream.lastCursor, false);
      else this.deps.sender.send(stream.ws, RESYNC_REQUIRED_FRAME);
    }
    this.dropIfEmpty(stream);
  }
}
