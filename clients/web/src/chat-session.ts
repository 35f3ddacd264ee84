/**
 * Everything while one user is logged in: the message stream (from `sync`, then the live
 * connection), the conversation list built from it, the open conversation, sending.
 *
 * The stream is the user's messages in storage order; the list is `conversationsFrom(stream)`.
 * At start it comes from the copy saved at the last cursor (storage.ts) when there is one, so
 * only what came after is replayed by the gateway, and otherwise from `sync` from the start.
 * The open conversation is separate: pages of `history` for that peer, plus whatever arrives
 * live for it. Every path into either list dedupes by message id (MessageList).
 */
import { backoffDelay, ChatApi, conversationsFrom, describeError, LiveConnection, newClientMsgId, type ChatMessage, type LiveStatus, type SocketFactory } from '@chat/client-core';
import { ChatView } from './chat-view.ts';
import { MessageList } from './message-list.ts';
import type { PageStorage, StoredSession } from './storage.ts';
import type { Via } from './thread-view.ts';

const HISTORY_PAGE = 30;

interface Thread {
  peer: string;
  messages: MessageList;
  nextBefore: string | null;
}

export interface SessionEvents {
  /** The token is no longer accepted. */
  expired(): void;
  logout(): void;
}

export interface SessionDeps {
  root: HTMLElement;
  session: StoredSession;
  api: ChatApi;
  store: PageStorage;
  gatewayUrl: string;
  connect: SocketFactory;
  events: SessionEvents;
  /** Called with the number of unread messages whenever it may have changed (the tab title). */
  onUnread?(total: number): void;
}

export class ChatSession {
  private readonly view: ChatView;
  private readonly stream = new MessageList();
  private readonly me: string;
  private live: LiveConnection | undefined;
  private thread: Thread | undefined;
  private openSeq = 0;
  private stopped = false;
  private sendChain: Promise<unknown> = Promise.resolve();
  /** The last send that failed, so sending the same text again reuses its idempotency key. */
  private unsent: { to: string; text: string; clientMsgId: string } | undefined;

  constructor(private readonly deps: SessionDeps) {
    this.me = deps.session.user.username;
    this.view = new ChatView(deps.root, this.me, {
      open: (peer) => void this.openThread(peer).catch((err) => this.fail(err, (m) => this.view.showError(m))),
      start: (username) => this.openThread(username).catch((err) => this.fail(err, (m) => Promise.reject(new Error(m)))),
      send: (text) => this.send(text),
      loadOlder: () => this.loadOlder(),
      logout: () => deps.events.logout(),
    });
  }

  get token(): string {
    return this.deps.session.token;
  }

  get username(): string {
    return this.me;
  }

  async start(): Promise<void> {
    this.view.setStatus({ state: 'connecting' });
    this.renderList();
    const saved = this.deps.store.loadStream(this.me);
    let cursor: string | undefined;
    if (saved) {
      for (const m of saved.messages) this.stream.add(m);
      cursor = saved.cursor;
    } else {
      const synced = await this.syncFromStart();
      if (synced === undefined) return;
      cursor = synced;
    }
    if (this.stopped) return;
    this.renderList();
    this.live = new LiveConnection({
      gatewayUrl: this.deps.gatewayUrl,
      token: () => this.token,
      cursor,
      connect: this.deps.connect,
      // A browser hides why an upgrade failed; Chat tells whether the token is the reason.
      tokenAccepted: (token) => this.deps.api.tokenAccepted(token),
      onMessage: (m, info) => this.receive(m, info.replayed ? 'replayed' : 'live'),
      onCursor: (c) => this.persist(c),
      onStatus: (s: LiveStatus) => this.view.setStatus(s),
      onResyncRequired: () => void this.resync(),
      onSessionExpired: () => this.expire(),
    });
    this.live.start();
  }

  stop(): void {
    this.stopped = true;
    this.live?.stop();
    this.view.destroy();
  }

  /** Logging out forgets this user's saved messages (the read marks stay, they hold no text). */
  forgetSaved(): void {
    this.deps.store.forgetStream(this.me);
  }

  /** Another tab changed the read marks. */
  readMarksChanged(): void {
    this.renderList();
  }

  /** The whole stream from Chat, retried with backoff; undefined when the session ended meanwhile. */
  private async syncFromStart(): Promise<string | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const res = await this.deps.api.syncAll(this.token, null);
        this.view.showError(undefined);
        for (const m of res.messages) this.stream.add(m);
        return res.cursor ?? undefined;
      } catch (err) {
        if (this.endedBy(err)) return undefined;
        this.view.showError(`${describeError(err).message} Retrying…`);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
      }
    }
    return undefined;
  }

  /** More was missed than the gateway replays, or our cursor was refused: reload from Chat. */
  private async resync(): Promise<void> {
    await this.syncFromStart();
    if (this.stopped) return;
    this.renderList();
    if (this.thread) await this.openThread(this.thread.peer).catch((err) => this.fail(err, (m) => this.view.showError(m)));
  }

  private receive(m: ChatMessage, via: Via): void {
    const isNew = this.stream.add(m) >= 0;
    const t = this.thread;
    if (t && same(this.peerOf(m), t.peer)) {
      const index = t.messages.add(m);
      if (index >= 0) this.view.thread.insert(m, index, via);
      this.markRead(t.peer);
    }
    if (isNew) this.renderList();
  }

  private persist(cursor: string | undefined): void {
    if (cursor === undefined) this.deps.store.forgetStream(this.me);
    else this.deps.store.saveStream(this.me, { cursor, messages: [...this.stream.messages] });
  }

  private async openThread(peer: string): Promise<void> {
    const seq = ++this.openSeq;
    const page = await this.deps.api.history(this.token, { with: peer, limit: HISTORY_PAGE });
    if (seq !== this.openSeq || this.stopped) return;
    // Chat's spelling of the name, when a message shows it.
    const canonical = page.messages[0] ? this.peerOf(page.messages[0]) : peer;
    const t: Thread = { peer: canonical, messages: new MessageList(), nextBefore: page.nextBefore };
    this.thread = t;
    this.view.showError(undefined);
    this.view.thread.show(canonical);
    // Stream messages newer than the page's oldest cover anything that arrived live while the
    // page was being fetched.
    const oldest = page.messages.at(-1)?.createdAt ?? '';
    const fromStream = this.stream.messages.filter((m) => same(this.peerOf(m), canonical) && (page.nextBefore === null || m.createdAt >= oldest));
    for (const [m, via] of [...page.messages.map((m) => [m, 'history'] as const), ...fromStream.map((m) => [m, 'live'] as const)]) {
      const index = t.messages.add(m);
      if (index >= 0) this.view.thread.insert(m, index, via);
    }
    this.view.thread.setHasOlder(t.nextBefore !== null);
    this.markRead(canonical);
    this.renderList();
  }

  private async loadOlder(): Promise<void> {
    const t = this.thread;
    if (!t?.nextBefore) return;
    try {
      const page = await this.deps.api.history(this.token, { with: t.peer, limit: HISTORY_PAGE, before: t.nextBefore });
      if (this.thread !== t) return;
      t.nextBefore = page.nextBefore;
      for (const m of page.messages) {
        const index = t.messages.add(m);
        if (index >= 0) this.view.thread.insert(m, index, 'history');
      }
      this.view.thread.setHasOlder(t.nextBefore !== null);
    } catch (err) {
      this.fail(err, (m) => this.view.thread.showError(m));
    }
  }

  /** Sends one at a time, in the order typed, so they are stored in that order. */
  private send(text: string): Promise<void> {
    const t = this.thread;
    if (!t) return Promise.reject(new Error('Open a conversation first.'));
    const retry = this.unsent && same(this.unsent.to, t.peer) && this.unsent.text === text ? this.unsent : undefined;
    const clientMsgId = retry?.clientMsgId ?? newId();
    const sent = this.sendChain.then(() => this.deps.api.send(this.token, { to: t.peer, text, clientMsgId }));
    this.sendChain = sent.catch(() => undefined);
    return sent.then(
      ({ message }) => {
        this.unsent = undefined;
        this.receive(message, 'sent');
      },
      (err) => {
        this.unsent = { to: t.peer, text, clientMsgId };
        return this.fail(err, (m) => Promise.reject(new Error(m)), { text });
      },
    );
  }

  private markRead(peer: string): void {
    const last = [...this.stream.messages].reverse().find((m) => same(this.peerOf(m), peer));
    if (!last) return;
    const key = this.peerOf(last);
    // Re-read first: another tab may have marked other conversations since.
    const marks = this.deps.store.loadReadMarks(this.me);
    if (marks[key] === last.id) return;
    marks[key] = last.id;
    this.deps.store.saveReadMarks(this.me, marks);
  }

  private renderList(): void {
    const list = conversationsFrom(this.stream.messages, this.me, this.deps.store.loadReadMarks(this.me));
    this.view.renderConversations(list, this.thread?.peer);
    this.deps.onUnread?.(list.reduce((n, c) => n + c.unread, 0));
  }

  /** An expired session ends the screen; anything else is shown through `show`. */
  private fail<T>(err: unknown, show: (message: string) => T, context: { text?: string } = {}): T | undefined {
    if (this.endedBy(err)) return undefined;
    return show(describeError(err, context).message);
  }

  private endedBy(err: unknown): boolean {
    if (describeError(err).kind !== 'session_expired') return false;
    this.expire();
    return true;
  }

  /** Only while this session is the one on screen: a late 401 for a session already left must not end the next one. */
  private expire(): void {
    if (!this.stopped) this.deps.events.expired();
  }

  private peerOf(m: ChatMessage): string {
    return same(m.from, this.me) ? m.to : m.from;
  }
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** crypto.randomUUID exists only in secure contexts; a page served over plain http elsewhere than localhost still needs idempotency keys. */
function newId(): string {
  if (typeof crypto.randomUUID === 'function') return newClientMsgId();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
