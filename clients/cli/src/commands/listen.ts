/**
 * `listen`: prints every message to or from the user as it arrives, and across restarts goes
 * on exactly where the last run stopped.
 *
 * Core's LiveConnection does the protocol work (reconnect with backoff, resume from the cursor,
 * dedupe by id). What this adds is the persistence that makes "across restarts" true:
 *
 * - The position is a cursor in the config directory. A message's line is printed first, and
 *   its cursor stored only once the line has reached the OS (see cursorKeeper). So a kill at
 *   any point loses nothing; the only repeat possible is a kill in the microseconds between the
 *   write and the rename of the cursor file, which prints that one message again.
 * - The first run has no cursor. Rather than waiting for a first message to learn one (a run
 *   killed before that would lose what arrived until the next), it reads its position from
 *   Chat's sync before connecting: "everything up to now is behind me".
 * - If more was missed than the gateway replays (`resync_required`), the rest is read from
 *   Chat's sync, page by page, and the live stream restarted from where that ends. A kill in
 *   the middle of a page may print up to that page again on the next run.
 *
 * Status changes (connecting, catching up, live, dropped) go to stderr; stdout carries only
 * messages, so `--json` output is one message object per line.
 *
 * The signals beside the messages (issue 14) are status too, so they go to stderr, one short
 * line each: `12:03:04  ~ bob is typing…` (once per burst: again only after 5 s without a
 * frame), `~ bob read` (a 1:1 peer read up to the newest), `~ carol read #Team`, `~ you read
 * bob (another device)`, `~ bob is online`, `~ bob is offline (last seen 12:03:04)`.
 */
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  ApiError,
  conversationKey,
  retryDelay,
  LiveConnection,
  SeenIds,
  TypingTracker,
  UnreachableError,
  type ChatApi,
  type ChatMessage,
  type LiveHandlers,
  type LiveStatus,
  type SocketLike,
} from '@chat/client-core';
import { closeWords } from '../close-words.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT, toCliError } from '../errors.ts';
import { formatMessage, formatTime, groupLabel, visible } from '../format.ts';
import { GroupNameCache } from '../group-names.ts';

/** Sync page size while catching up past the replay limit: also the most a kill can repeat. */
const CATCH_UP_PAGE = 100;

export async function listen(ctx: Context): Promise<void> {
  const session = ctx.session();
  const endpoints = ctx.endpoints(session.endpoints);
  const api = ctx.api(endpoints);
  const { id: userId, username } = session.user;
  const stdout = ctx.io.stdout as Partial<Writable> & { write(text: string): unknown };

  let stopped = false;
  let stop: () => void = () => {
    stopped = true;
  };
  // Ctrl-C or a service manager's SIGTERM ends listen normally (exit 0); a second Ctrl-C,
  // with the handler gone, ends it at once.
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    let cursor = ctx.store.loadCursor(userId);
    if (cursor === undefined) {
      cursor = await currentPosition(api, session.token);
      ctx.store.saveCursor(userId, cursor);
      ctx.note(`Listening as ${username}, from now on. Stop with Ctrl-C; the next listen goes on from where this one stops.`);
    } else {
      ctx.note(`Listening as ${username}, going on from where the last listen stopped.`);
    }
    if (stopped) return;

    // Ids already printed, across LiveConnections (a catch-up starts a new one) and pages.
    const printed = new SeenIds();
    const groups = ctx.json ? undefined : new GroupNameCache(api, session.token);
    await groups?.load();
    const peers = new Map<string, string>(groups?.peers);
    const typists = new TypingTracker();
    const print = (m: ChatMessage) => {
      if (!printed.add(m.id)) return;
      groups?.learn(m);
      if (m.conversationId) {
        if (m.to !== undefined) peers.set(m.conversationId, conversationKey(m, username));
        typists.clear(m.conversationId, { username: m.from });
      }
      if (ctx.json) ctx.outJson(m);
      else ctx.out(formatMessage(m, undefined, groups?.lookup));
    };
    const keepCursor = cursorKeeper(stdout, (c) => ctx.store.saveCursor(userId, c));
    const status = statusPrinter(ctx, endpoints.gatewayUrl);
    const signals = signalPrinter(ctx, { me: session.user, peers, typists, groupName: groups?.lookup });

    await new Promise<void>((resolve, reject) => {
      let live: LiveConnection | undefined;
      const finish = (err?: unknown) => {
        stopped = true;
        live?.stop();
        if (err) reject(err);
        else resolve();
      };
      stop = () => finish();
      // Handlers run inside socket events, where a throw (a full disk while storing the
      // cursor) would crash the process with a stack trace; it ends listen with its words instead.
      const guarded =
        <A>(fn: (arg: A) => void) =>
        (arg: A) => {
          try {
            fn(arg);
          } catch (err) {
            finish(err);
          }
        };

      const start = (from: string) => {
        if (stopped) return;
        const connection = new LiveConnection({
          gatewayUrl: endpoints.gatewayUrl,
          token: () => session.token,
          cursor: from,
          // ws implements the standard onopen/onmessage/onclose/onerror properties LiveConnection
          // uses; its event objects carry more than SocketLike names, hence the cast. The
          // handshake timeout turns a gateway that accepts TCP but never answers into a retry.
          connect: (url) => new WebSocket(url, { handshakeTimeout: 10_000 }) as unknown as SocketLike,
          // ws reports a refused upgrade (401) only as a failed connect, so ask Chat whether the
          // token is still good before deciding between "retry" and "log in again".
          tokenAccepted: (token) => api.tokenAccepted(token),
          onMessage: guarded(print),
          onCursor: guarded(keepCursor),
          onStatus: status,
          onResyncRequired: (reason) => {
            if (reason === 'invalid_cursor') {
              ctx.note('The gateway refused the stored position; going on with new messages. Older ones: pnpm chat history <with>');
              return;
            }
            const resumeFrom = connection.cursor ?? from;
            connection.stop();
            catchUp(resumeFrom).then(start, finish);
          },
          onSessionExpired: () => finish(new CliError(EXIT.refused, 'Your session has expired. Please log in again: pnpm chat login <username>')),
          ...signals,
          onServerError: (e) => {
            if (e.code !== 'invalid_cursor') ctx.note(`The gateway reported a problem: ${e.message || e.code}`);
          },
        });
        live = connection;
        connection.start();
      };

      /** Reads what the gateway would not replay from Chat's sync, printing and storing as it goes. */
      const catchUp = async (from: string): Promise<string> => {
        ctx.note('More was missed than the gateway replays; reading it from Chat …');
        let position = from;
        for (let attempt = 0; !stopped; ) {
          let page;
          try {
            page = await api.sync(session.token, { after: position, limit: CATCH_UP_PAGE });
            attempt = 0;
          } catch (err) {
            if (!(err instanceof UnreachableError || (err instanceof ApiError && err.status === 503))) throw toCliError(err);
            const delay = retryDelay(err, attempt++);
            ctx.note(`${toCliError(err).message} Trying again in ${(delay / 1000).toFixed(1)} s.`);
            await sleep(delay);
            continue;
          }
          for (const m of page.messages) print(m);
          position = page.cursor;
          keepCursor(position);
          if (!page.hasMore) break;
        }
        return position;
      };

      start(cursor!);
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Typing, read and presence frames as one stderr line each (see the top of this file). */
function signalPrinter(
  ctx: Context,
  known: { me: { id: string; username: string }; peers: ReadonlyMap<string, string>; typists: TypingTracker; groupName?: (id: string) => string | undefined },
): Pick<LiveHandlers, 'onTyping' | 'onRead' | 'onPresence'> {
  const line = (text: string) => ctx.note(`${formatTime(new Date().toISOString())}  ~ ${text}`);
  const where = (conversationId: string) =>
    conversationId.startsWith('g:') ? groupLabel(conversationId, known.groupName) : visible(known.peers.get(conversationId) ?? conversationId);
  return {
    onTyping: (f) => {
      if (!known.typists.add(f.conversationId, f.user)) return;
      line(f.conversationId.startsWith('g:') ? `${visible(f.user.username)} is typing in ${where(f.conversationId)}…` : `${visible(f.user.username)} is typing…`);
    },
    onRead: (f) => {
      if (f.user.id === known.me.id) line(`you read ${where(f.conversationId)} (another device)`);
      else if (f.conversationId.startsWith('g:')) line(`${visible(f.user.username)} read ${where(f.conversationId)}`);
      else line(`${visible(f.user.username)} read`);
    },
    onPresence: (f) => {
      const seen = f.lastSeen ? ` (last seen ${formatTime(f.lastSeen)})` : '';
      line(f.status === 'online' ? `${visible(f.user.username)} is online` : `${visible(f.user.username)} is offline${seen}`);
    },
  };
}

/** The end of the user's stream right now, walking sync to its last page. */
async function currentPosition(api: ChatApi, token: string): Promise<string> {
  let position: string | null = null;
  for (;;) {
    const res = await api.syncAll(token, position);
    position = res.cursor;
    if (res.complete && position !== null) return position;
  }
}

/**
 * Stores a cursor once every line printed before it has left this process. Usually a line is
 * written at once (files and terminals always; pipes while the reader keeps up) and this stores
 * at once; when the line had to be queued it waits for `drain`; when the write failed it never
 * stores, so a line that never got out is printed again by the next run.
 */
function cursorKeeper(stdout: Partial<Writable>, save: (cursor: string | undefined) => void): (cursor: string | undefined) => void {
  let waiting = false;
  let latest: string | undefined;
  return (cursor) => {
    // The reader has gone (`listen | head -3`): the write just failed with EPIPE, which the
    // stream records at once, so the line was not delivered and its cursor must not be kept.
    if (stdout.writable === false) return;
    if (!waiting && (stdout.writableLength ?? 0) === 0) return save(cursor);
    latest = cursor; // cursors only advance, so the newest one covers every line before it
    if (waiting) return;
    waiting = true;
    stdout.once!('drain', () => {
      waiting = false;
      save(latest);
    });
  };
}

/** One stderr line per change of state, with the time, so a long-running listen reads as a log. */
function statusPrinter(ctx: Context, gatewayUrl: string): (s: LiveStatus) => void {
  let current: LiveStatus['state'] | undefined;
  let shown: LiveStatus['state'] | undefined;
  const show = (state: LiveStatus['state'], text: string) => {
    shown = state;
    ctx.note(`${formatTime(new Date().toISOString())}  -- ${text}`);
  };
  return (s) => {
    current = s.state;
    if (s.state === 'connecting' && shown === undefined) show(s.state, `Connecting to ${gatewayUrl} …`);
    else if (s.state === 'catching_up' && shown !== 'catching_up') show(s.state, 'Connected; catching up on what arrived meanwhile …');
    else if (s.state === 'waiting') show(s.state, `${closeWords(s.lastClose)}; trying again in ${((s.retryInMs ?? 0) / 1000).toFixed(1)} s.`);
    else if (s.state === 'live' && shown !== 'live') {
      // A resume that missed too much turns "live" and at once hands over to the catch-up from
      // Chat (which stops this connection); saying "live" in between would be wrong.
      queueMicrotask(() => {
        if (current === 'live' && shown !== 'live') show('live', 'Live: new messages appear as they arrive.');
      });
    }
  };
}
