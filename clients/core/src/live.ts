/**
 * One device's live stream from the gateway (PROTOCOL.md), kept up across drops.
 *
 * The invariant: every message the server stored for this user is handed to `onMessage` exactly
 * once, in order, however often the socket drops. Two things give that:
 * - the cursor: each `new_message` frame carries "everything up to and including this one" for
 *   this user, and a reconnect asks for `?since=<last cursor>`, so the gateway replays exactly
 *   what came after it;
 * - `SeenIds`: the gateway delivers at least once on the wire, so an id already handed over is
 *   dropped here (the cursor still advances).
 *
 * Why not simply "reconnect and re-fetch history": a page of history has no position in the
 * user's stream, so messages that arrive between the fetch and the new socket are lost or
 * doubled. The cursor is a position, which is why it is the only state a client keeps.
 *
 * Reconnects back off exponentially with jitter (backoff.ts), refused upgrades included: a
 * socket that never said `ready` never resets the delay, so a gateway answering 429
 * (`too_many_connections`) or 503 is asked again at 0.5 s, 1 s, 2 s … up to the cap, never in a
 * loop. The stream stops for good only when the session is over (close 4001, or a failed
 * connect with a token Chat no longer accepts) or on `stop()`.
 *
 * The WebSocket constructor, the timers and the random source are injected: the browser passes
 * its own WebSocket, Node the `ws` package, and the unit test a fake.
 */
import { CLOSE_CODES, type ClientFrameType, type FrameErrorCode, type ServerFrameType } from '@chat/common/contracts';
import type { User } from './api.ts';
import type { ChatMessage, UserRef } from './conversation-types.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { SeenIds } from './seen-ids.ts';

/** The part of the standard WebSocket interface this uses. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export type LiveState =
  /** Opening a socket (the first time, or again after a drop). */
  | 'connecting'
  /** Socket open, the gateway is replaying what was missed. */
  | 'catching_up'
  /** Up to date; new messages arrive as they are stored. */
  | 'live'
  /** Dropped; the next attempt is scheduled (`retryInMs`). */
  | 'waiting'
  /** Over: stopped, or the session expired. */
  | 'stopped';

export interface LiveStatus {
  state: LiveState;
  /** With `waiting`: when the next attempt starts. */
  retryInMs?: number;
  /** The close code and reason of the drop that led here, when there was one. */
  lastClose?: LiveClose;
}

export interface LiveClose {
  code: number;
  reason: string;
  /**
   * The HTTP status of a refused upgrade (401, 403, 429, 503), when the socket library tells
   * it: Node's `ws` does ("Unexpected server response: 429"), a browser's WebSocket never does.
   */
  httpStatus?: number;
}

/** Someone else is typing in `conversationId` (never stored nor replayed; at most one per 3 s per typer). */
export interface TypingFrame {
  type: 'typing';
  conversationId: string;
  user: UserRef;
}

/** A member's read mark moved; the reader's own devices get it too. */
export interface ReadFrame {
  type: 'read';
  conversationId: string;
  user: UserRef;
  readUpTo: string;
  /** ISO time. */
  at: string;
}

/** A contact came online or went offline (`lastSeen` only with offline). */
export interface PresenceFrame {
  type: 'presence';
  user: UserRef;
  status: 'online' | 'offline';
  lastSeen?: string;
}

export interface LiveHandlers {
  /** A message not seen before, in stream order. `replayed`: it came from catch-up, not live. */
  onMessage?(message: ChatMessage, info: { replayed: boolean; cursor: string | undefined }): void;
  /** The position to persist; undefined when the server refused the stored one (start over). */
  onCursor?(cursor: string | undefined): void;
  onStatus?(status: LiveStatus): void;
  /** The socket is open and the server knows who we are. */
  onReady?(user: User): void;
  /** More was missed than the gateway replays, or the stored cursor was refused: reload history. */
  onResyncRequired?(reason: 'too_many_missed' | 'invalid_cursor'): void;
  /** The token is no longer accepted: log in again. The stream has stopped. */
  onSessionExpired?(): void;
  /** An `error` frame (the socket stays open). */
  onServerError?(error: { code: string; message: string }): void;
  /** Signals beside the message stream (issue 14): ephemeral, never replayed after a drop. */
  onTyping?(frame: TypingFrame): void;
  onRead?(frame: ReadFrame): void;
  onPresence?(frame: PresenceFrame): void;
}

export interface LiveOptions extends LiveHandlers {
  /** ws:// or wss:// base of the gateway. */
  gatewayUrl: string;
  /** The current token; read at every (re)connect, so a re-login takes effect. */
  token: () => string;
  /** Where to resume from (a stored cursor), if anywhere. */
  cursor?: string;
  connect: SocketFactory;
  /**
   * Asked after a connect that failed before the server said `ready`: browsers do not show a
   * refused upgrade's 401, so this asks Chat whether the token is still good (`ChatApi.tokenAccepted`).
   */
  tokenAccepted?: (token: string) => Promise<boolean>;
  backoff?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** How many recent message ids to remember for dedupe. */
  seenCapacity?: number;
}

/** The close code after which reconnecting cannot help: the token expired. */
const SESSION_OVER = CLOSE_CODES.token_expired;
/** Sent on open when there is no cursor to resume from. */
const PING: { type: ClientFrameType } = { type: 'ping' };
const INVALID_CURSOR: FrameErrorCode = 'invalid_cursor';

/** How `ws` words a refused upgrade in its error event. */
const REFUSED_UPGRADE = /Unexpected server response: (\d{3})/;
/** Refusals that say nothing about the token: no need to ask Chat before retrying. */
const NOT_THE_TOKEN: ReadonlySet<number> = new Set([429, 503]);

const isUser = (u: unknown): u is UserRef => typeof u === 'object' && u !== null && typeof (u as UserRef).id === 'string' && typeof (u as UserRef).username === 'string';

export class LiveConnection {
  private socket: SocketLike | undefined;
  private status: LiveStatus = { state: 'stopped' };
  private attempt = 0;
  private openedAt = 0;
  private ready = false;
  private stopped = true;
  private timer: unknown;
  private readonly seen: SeenIds;
  private currentCursor: string | undefined;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly now: () => number;

  constructor(private readonly options: LiveOptions) {
    this.currentCursor = options.cursor;
    this.seen = new SeenIds(options.seenCapacity);
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.now = options.now ?? (() => Date.now());
  }

  get cursor(): string | undefined {
    return this.currentCursor;
  }

  get state(): LiveState {
    return this.status.state;
  }

  /** Marks ids as already shown (for example the messages a history page put on screen). */
  markSeen(ids: Iterable<string>): void {
    for (const id of ids) this.seen.add(id);
  }

  /**
   * Tells the conversation's other members that the user is typing. False when there is no
   * ready socket to say it on (nothing is queued: a late typing notice is worse than none).
   * Throttling is the caller's (TypingSender); the gateway drops extras anyway.
   */
  sendTyping(conversationId: string): boolean {
    if (!this.socket || !this.ready) return false;
    const frame: { type: ClientFrameType; conversationId: string } = { type: 'typing', conversationId };
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      this.detach(s);
      s.close(1000, 'client_closed');
    }
    this.setStatus({ state: 'stopped' });
  }

  private open(): void {
    this.timer = undefined;
    const url = new URL(this.options.gatewayUrl);
    url.searchParams.set('token', this.options.token());
    if (this.currentCursor !== undefined) url.searchParams.set('since', this.currentCursor);
    this.ready = false;
    this.setStatus({ state: 'connecting', lastClose: this.status.lastClose });
    let socket: SocketLike;
    try {
      socket = this.options.connect(url.toString());
    } catch {
      this.scheduleReconnect({ code: 1006, reason: 'connect_failed' });
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.openedAt = this.now();
      // Ends the gateway's resume window at once when there is no cursor to resume from.
      if (this.currentCursor === undefined) socket.send(JSON.stringify(PING));
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.onFrame(ev.data);
    };
    let httpStatus: number | undefined;
    socket.onerror = (ev) => {
      // A close event follows; that is where reconnecting happens. Only the status is kept.
      const refused = REFUSED_UPGRADE.exec(String((ev as { message?: unknown } | undefined)?.message ?? ''));
      if (refused) httpStatus = Number(refused[1]);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.onClosed({ code: ev.code, reason: ev.reason, ...(httpStatus !== undefined ? { httpStatus } : {}) });
    };
  }

  private detach(s: SocketLike): void {
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
  }

  private onFrame(data: string): void {
    let frame: any;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame?.type as ServerFrameType | undefined) {
      case 'ready':
        this.ready = true;
        this.setStatus({ state: this.currentCursor !== undefined ? 'catching_up' : 'live' });
        this.options.onReady?.(frame.user);
        return;
      case 'new_message': {
        const message = frame.message as ChatMessage;
        if (message && typeof message.id === 'string' && this.seen.add(message.id)) {
          this.options.onMessage?.(message, { replayed: frame.replayed === true, cursor: frame.cursor });
        }
        if (typeof frame.cursor === 'string') this.advance(frame.cursor);
        return;
      }
      case 'synced':
        if (typeof frame.cursor === 'string') this.advance(frame.cursor);
        this.setStatus({ state: 'live' });
        return;
      case 'resync_required':
        this.setStatus({ state: 'live' });
        this.options.onResyncRequired?.('too_many_missed');
        return;
      case 'error': {
        const error = { code: String(frame.error?.code ?? 'error'), message: String(frame.error?.message ?? '') };
        if (error.code === INVALID_CURSOR) {
          this.advance(undefined);
          this.setStatus({ state: 'live' });
          this.options.onResyncRequired?.('invalid_cursor');
        }
        this.options.onServerError?.(error);
        return;
      }
      case 'typing':
        if (typeof frame.conversationId === 'string' && isUser(frame.user)) this.options.onTyping?.({ type: 'typing', conversationId: frame.conversationId, user: frame.user });
        return;
      case 'read':
        if (typeof frame.conversationId === 'string' && isUser(frame.user) && typeof frame.readUpTo === 'string') {
          this.options.onRead?.({ type: 'read', conversationId: frame.conversationId, user: frame.user, readUpTo: frame.readUpTo, at: String(frame.at ?? '') });
        }
        return;
      case 'presence':
        if (isUser(frame.user) && (frame.status === 'online' || frame.status === 'offline')) {
          const lastSeen = frame.status === 'offline' && typeof frame.lastSeen === 'string' ? { lastSeen: frame.lastSeen } : {};
          this.options.onPresence?.({ type: 'presence', user: frame.user, status: frame.status, ...lastSeen });
        }
        return;
      default:
        return;
    }
  }

  private advance(cursor: string | undefined): void {
    if (cursor === this.currentCursor) return;
    this.currentCursor = cursor;
    this.options.onCursor?.(cursor);
  }

  private onClosed(close: LiveClose): void {
    if (this.stopped) return;
    if (close.code === SESSION_OVER) return this.sessionOver(close);
    if (!this.ready && this.options.tokenAccepted && !(close.httpStatus !== undefined && NOT_THE_TOKEN.has(close.httpStatus))) {
      // A refused upgrade looks like any other drop in a browser: ask Chat about the token.
      const token = this.options.token();
      this.options.tokenAccepted(token).then(
        (ok) => (ok || this.stopped ? this.scheduleReconnect(close) : this.sessionOver(close)),
        () => this.scheduleReconnect(close),
      );
      return;
    }
    this.scheduleReconnect(close);
  }

  private sessionOver(close: LiveClose): void {
    if (this.stopped) return;
    this.stopped = true;
    this.setStatus({ state: 'stopped', lastClose: close });
    this.options.onSessionExpired?.();
  }

  private scheduleReconnect(close: LiveClose): void {
    if (this.stopped) return;
    const policy = this.options.backoff ?? DEFAULT_BACKOFF;
    if (this.ready && this.now() - this.openedAt >= policy.stableMs) this.attempt = 0;
    const delay = backoffDelay(this.attempt, policy, this.options.random);
    this.attempt++;
    this.setStatus({ state: 'waiting', retryInMs: delay, lastClose: close });
    this.timer = this.setTimer(() => this.open(), delay);
  }

  private setStatus(status: LiveStatus): void {
    this.status = status;
    this.options.onStatus?.(status);
  }
}
