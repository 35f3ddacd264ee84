/**
 * Everything while one user is logged in: the message stream (from `sync`, then the live
 * connection), the conversation list built from it, the open conversation, sending, and the
 * open group's membership actions.
 *
 * The stream is the user's messages in storage order, 1:1 and group alike. At start it comes
 * from the copy saved at the last cursor (storage.ts) when there is one, so only what came
 * after is replayed by the gateway, and otherwise from `sync` from the start. The list is the
 * stream's conversations (`conversationsFrom`) with Chat's `GET /conversations` laid over
 * them (`mergeConversations`: group names, member counts, roles), fetched at start and again
 * whenever a group changes (a system message) or one not listed shows up.
 * The open conversation is separate: pages of `history` for that peer or group, plus whatever
 * arrives live for it. Every path into either list dedupes by message id (MessageList).
 *
 * Issue 14, beside the stream:
 * - Read marks: the open conversation, while the page is visible, is marked read up to its
 *   newest message, here (the per-user read marks in storage.ts, which other tabs follow) and
 *   at Chat (ReadReporter, coalesced). Chat's marks come back from `GET /conversations` (at
 *   start and at every reconnect: the gap-free catch-up) and from `read` frames (another
 *   device of the user's read, or a 1:1 peer did: "Seen" under the user's newest message).
 * - Typing: `typing` frames show "bob is typing…" for 5 s (TypingTracker); keystrokes send at
 *   most one frame per 3 s per conversation (TypingSender).
 * - Presence: `GET /presence` for the 1:1 peers in the list at every connect, then `presence`
 *   frames; a dot in the list and "online" / "last seen …" in a 1:1's header.
 * A Chat or gateway without these (an older one) only means they stay off: their calls fail
 * quietly and the stream's own unread counts stand.
 */
import {
  ApiError,
  ChatApi,
  conversationKey,
  conversationsFrom,
  describeError,
  isGroupMessage,
  LiveConnection,
  mergeConversations,
  newClientMsgId,
  PresenceBook,
  presenceText,
  ReadMarks,
  ReadReporter,
  retryDelay,
  RetryAfterGate,
  seenByPeer,
  TypingSender,
  TypingTracker,
  isAtOrAfter,
  type ChatMessage,
  type ConversationSummary,
  type PositionOf,
  type ConversationListEntry,
  type GroupConversation,
  type GroupRole,
  type LiveStatus,
  type PresenceFrame,
  type ReadFrame,
  type TypingFrame,
  type SendTarget,
  type SocketFactory,
} from '@chat/client-core';
import { ChatView } from './chat-view.ts';
import { MessageList } from './message-list.ts';
import type { PageStorage, StoredSession } from './storage.ts';
import type { Via } from './thread-view.ts';

const HISTORY_PAGE = 30;
/** Changes seldom come alone (a group created with five members is one message, but a rename and an add may follow): one list fetch for a burst. */
const LIST_REFRESH_DELAY_MS = 300;
/** Peers that show up together (the list arriving) are asked about in one `GET /presence`. */
const PRESENCE_DELAY_MS = 300;

interface Thread {
  /** The peer's name for a 1:1, the group's id for a group (core's conversation key). */
  key: string;
  /** Set for a group. */
  groupId?: string;
  /** Chat's id (`g:…`, `dm:…`), once known: a new 1:1 has none until its first message. */
  conversationId?: string;
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
  private unsent: { key: string; text: string; clientMsgId: string } | undefined;
  /**
   * A send Chat refused with Retry-After (503 while it sheds load or its database is down)
   * holds every send until the wait has passed: pressing Send sooner shows the wait left
   * without asking Chat, which would only refuse it again.
   */
  private readonly sendGate = new RetryAfterGate();
  /** Chat's conversation list, and when it was fetched; undefined until the first answer. */
  private listed: { entries: ConversationListEntry[]; at: string } | undefined;
  private listTimer: ReturnType<typeof setTimeout> | undefined;
  /** Groups the user left here, or that Chat said the user is not in (see MergeOptions.exclude). */
  private readonly gone = new Set<string>();
  /** Chat's read marks (own and 1:1 peers'), by conversation id. */
  private readonly marks: ReadMarks;
  private readonly reporter: ReadReporter;
  private readonly typists = new TypingTracker();
  private readonly typingSender = new TypingSender((id) => this.live?.sendTyping(id) ?? false);
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly presence = new PresenceBook();
  /** Peers asked about since the socket last became ready. */
  private readonly presenceAsked = new Set<string>();
  private presenceTimer: ReturnType<typeof setTimeout> | undefined;
  private readies = 0;
  /** The list as last drawn. */
  private shown: ConversationSummary[] = [];
  private readonly onVisibility = () => {
    if (document.visibilityState !== 'visible' || !this.thread) return;
    this.markRead(this.thread.key);
    this.renderList();
  };

  constructor(private readonly deps: SessionDeps) {
    this.me = deps.session.user.username;
    this.marks = new ReadMarks(deps.session.user);
    this.reporter = new ReadReporter((id, messageId) => deps.api.markRead(this.token, id, messageId), {
      // An older Chat has no such route; a group just left answers 404: neither is worth a word.
      onError: (err) => this.fail(err, () => undefined),
    });
    const rejectWithWords = (err: unknown) => this.fail(err, (m) => Promise.reject(new Error(m)));
    this.view = new ChatView(deps.root, this.me, {
      open: (key) => void this.openThread(key).catch((err) => this.fail(err, (m) => this.view.showError(m))),
      start: (username) => this.openThread(username).catch(rejectWithWords),
      createGroup: (name, members) => this.createGroup(name, members).catch(rejectWithWords),
      send: (text) => this.send(text),
      loadOlder: () => this.loadOlder(),
      typing: () => this.typed(),
      rename: (name) => this.changeGroup((id) => this.deps.api.renameGroup(this.token, id, name)).catch(rejectWithWords),
      addMembers: (usernames) => this.changeGroup((id) => this.deps.api.addMembers(this.token, id, usernames)).catch(rejectWithWords),
      removeMember: (username) => this.changeGroup((id) => this.deps.api.removeMember(this.token, id, username)).catch(rejectWithWords),
      setRole: (username, role: Exclude<GroupRole, 'owner'>) => this.changeGroup((id) => this.deps.api.setRole(this.token, id, username, role)).catch(rejectWithWords),
      leave: () => this.leaveGroup().catch(rejectWithWords),
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
    void this.refreshList();
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
      onReady: () => this.connected(),
      onTyping: (f) => this.onTyping(f),
      onRead: (f) => this.onRead(f),
      onPresence: (f) => this.onPresence(f),
    });
    document.addEventListener('visibilitychange', this.onVisibility);
    this.live.start();
  }

  stop(): void {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearTimeout(this.listTimer);
    clearTimeout(this.typingTimer);
    clearTimeout(this.presenceTimer);
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
        await new Promise((r) => setTimeout(r, retryDelay(err, attempt)));
      }
    }
    return undefined;
  }

  /** More was missed than the gateway replays, or our cursor was refused: reload from Chat. */
  private async resync(): Promise<void> {
    await this.syncFromStart();
    if (this.stopped) return;
    this.renderList();
    void this.refreshList();
    if (this.thread) await this.openThread(this.thread.key).catch((err) => this.fail(err, (m) => this.view.showError(m)));
  }

  private receive(m: ChatMessage, via: Via): void {
    const isNew = this.stream.add(m) >= 0;
    const key = conversationKey(m, this.me);
    const t = this.thread;
    if (m.conversationId) {
      // They were typing this; and a message of the user's moves their own mark at Chat.
      if (this.typists.clear(m.conversationId, { username: m.from })) this.renderTyping();
      if (same(m.from, this.me)) this.reporter.known(m.conversationId, m.id, this.streamPosition());
    }
    if (t && same(key, t.key)) {
      t.conversationId ??= m.conversationId;
      const index = t.messages.add(m);
      if (index >= 0) this.view.thread.insert(m, index, via);
      this.markRead(t.key);
      this.updateSeen();
      if (isNew && m.kind === 'system') this.groupChanged(t, m);
    }
    if (!isNew) return;
    // Added (back) to a group once left.
    if (m.conversationId && (m.event === 'member_added' || m.event === 'created') && (m.users ?? []).some((u) => same(u.username, this.me))) this.gone.delete(m.conversationId);
    this.renderList();
    // A group changed (name, members, roles), or one the list does not know yet appeared.
    const unlisted = isGroupMessage(m) && this.listed !== undefined && !this.listed.entries.some((e) => e.id === m.conversationId);
    if (m.kind === 'system' || unlisted) this.scheduleListRefresh();
  }

  /** The open group's system message: show the group as it is now, or that the user is out of it. */
  private groupChanged(t: Thread, m: ChatMessage): void {
    const aboutMe = (m.users ?? []).some((u) => same(u.username, this.me));
    if (aboutMe && (m.event === 'member_removed' || m.event === 'member_left')) {
      this.leftThread(t);
      return;
    }
    void this.loadGroup(t);
  }

  /** The user is out of `t`'s group: its history stays on screen, sending stops, the list drops it. */
  private leftThread(t: Thread): void {
    if (t.groupId) this.gone.add(t.groupId);
    if (this.thread === t) this.view.thread.setMember(false);
    this.renderList();
  }

  /** Chat's conversation list; failures leave the stream's own list, and the next change tries again. */
  private async refreshList(): Promise<void> {
    try {
      const at = new Date().toISOString();
      const res = await this.deps.api.allConversations(this.token);
      if (this.stopped) return;
      this.listed = { entries: res.conversations, at: res.complete ? at : new Date(0).toISOString() };
      this.takeMarks(res.conversations);
      this.renderList();
      this.updateSeen();
      this.schedulePresence();
    } catch (err) {
      this.fail(err, () => undefined);
    }
  }

  private scheduleListRefresh(): void {
    if (this.listTimer !== undefined) return;
    this.listTimer = setTimeout(() => {
      this.listTimer = undefined;
      void this.refreshList();
    }, LIST_REFRESH_DELAY_MS);
  }

  /** The open group's members and roles, from Chat. */
  private async loadGroup(t: Thread): Promise<void> {
    if (!t.groupId) return;
    try {
      const g = await this.deps.api.group(this.token, t.groupId);
      if (this.thread === t && !this.stopped) this.showGroup(t, g);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conversation_not_found') return this.leftThread(t);
      this.fail(err, (m) => this.view.thread.showGroupError(m));
    }
  }

  private showGroup(t: Thread, g: GroupConversation): void {
    if (!g.members.some((m) => same(m.username, this.me))) return this.leftThread(t);
    this.view.thread.setGroup(g);
    this.view.thread.setMember(true);
  }

  private persist(cursor: string | undefined): void {
    if (cursor === undefined) this.deps.store.forgetStream(this.me);
    else this.deps.store.saveStream(this.me, { cursor, messages: [...this.stream.messages] });
  }

  /** Opens the 1:1 with a user (by name) or a group (by id). */
  private async openThread(key: string): Promise<void> {
    const seq = ++this.openSeq;
    const groupId = key.startsWith('g:') ? key : undefined;
    const [page, group] = await Promise.all([
      this.deps.api.history(this.token, { ...this.historyQuery(key, groupId), limit: HISTORY_PAGE }),
      groupId ? this.deps.api.group(this.token, groupId) : undefined,
    ]);
    if (seq !== this.openSeq || this.stopped) return;
    // Chat's spelling of the peer's name, when a message shows it.
    const canonical = groupId ?? (page.messages[0] ? conversationKey(page.messages[0], this.me) : key);
    const t: Thread = { key: canonical, groupId, conversationId: groupId ?? page.messages[0]?.conversationId ?? this.conversationIdOf(canonical), messages: new MessageList(), nextBefore: page.nextBefore };
    this.thread = t;
    this.view.showError(undefined);
    this.view.thread.show({ title: group?.name ?? canonical, group: groupId !== undefined });
    if (group) this.showGroup(t, group);
    // Stream messages newer than the page's oldest cover anything that arrived live while the
    // page was being fetched.
    const oldest = page.messages.at(-1)?.createdAt ?? '';
    const fromStream = this.stream.messages.filter((m) => same(conversationKey(m, this.me), canonical) && (page.nextBefore === null || m.createdAt >= oldest));
    for (const [m, via] of [...page.messages.map((m) => [m, 'history'] as const), ...fromStream.map((m) => [m, 'live'] as const)]) {
      const index = t.messages.add(m);
      if (index >= 0) this.view.thread.insert(m, index, via);
    }
    this.view.thread.setHasOlder(t.nextBefore !== null);
    this.markRead(canonical);
    this.renderList();
    this.updateSeen();
    this.renderTyping();
    this.renderThreadPresence();
  }

  private historyQuery(key: string, groupId: string | undefined): { with: string } | { conversation: string } {
    return groupId ? { conversation: groupId } : { with: key };
  }

  private async createGroup(name: string, members: string[]): Promise<void> {
    const g = await this.deps.api.createGroup(this.token, { name, members });
    this.scheduleListRefresh();
    await this.openThread(g.id);
  }

  /** A change to the open group; its answer is the group as it is now. */
  private async changeGroup(change: (id: string) => Promise<GroupConversation>): Promise<void> {
    const t = this.thread;
    if (!t?.groupId) throw new Error('Open a group first.');
    let g: GroupConversation;
    try {
      g = await change(t.groupId);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'conversation_not_found') this.leftThread(t);
      throw err;
    }
    if (this.thread === t) this.showGroup(t, g);
    this.scheduleListRefresh();
  }

  /** Leaving closes the group and takes it off the list (Chat no longer lists it either). */
  private async leaveGroup(): Promise<void> {
    const t = this.thread;
    if (!t?.groupId) throw new Error('Open a group first.');
    await this.deps.api.leaveGroup(this.token, t.groupId, this.me);
    this.gone.add(t.groupId);
    if (this.thread === t) {
      this.thread = undefined;
      this.view.thread.show(undefined);
    }
    await this.refreshList();
  }

  private async loadOlder(): Promise<void> {
    const t = this.thread;
    if (!t?.nextBefore) return;
    try {
      const page = await this.deps.api.history(this.token, { ...this.historyQuery(t.key, t.groupId), limit: HISTORY_PAGE, before: t.nextBefore });
      if (this.thread !== t) return;
      t.nextBefore = page.nextBefore;
      for (const m of page.messages) {
        const index = t.messages.add(m);
        if (index >= 0) this.view.thread.insert(m, index, 'history');
      }
      this.updateSeen();
      this.view.thread.setHasOlder(t.nextBefore !== null);
    } catch (err) {
      this.fail(err, (m) => this.view.thread.showError(m));
    }
  }

  /** Sends one at a time, in the order typed, so they are stored in that order. */
  private send(text: string): Promise<void> {
    const t = this.thread;
    if (!t) return Promise.reject(new Error('Open a conversation first.'));
    const target: SendTarget = t.groupId ? { conversationId: t.groupId } : { to: t.key };
    const retry = this.unsent && same(this.unsent.key, t.key) && this.unsent.text === text ? this.unsent : undefined;
    const held = this.sendGate.check(this.me);
    if (held) return Promise.reject(new Error(describeError(held, { text }).message));
    const clientMsgId = retry?.clientMsgId ?? newId();
    const sent = this.sendChain.then(() => this.deps.api.send(this.token, { ...target, text, clientMsgId }));
    this.sendChain = sent.catch(() => undefined);
    return sent.then(
      ({ message }) => {
        this.unsent = undefined;
        if (message.conversationId) this.typingSender.sent(message.conversationId);
        this.receive(message, 'sent');
      },
      (err) => {
        this.unsent = { key: t.key, text, clientMsgId };
        this.sendGate.refused(err, this.me);
        if (t.groupId && err instanceof ApiError && err.code === 'conversation_not_found') {
          this.leftThread(t);
          this.scheduleListRefresh();
        }
        return this.fail(err, (m) => Promise.reject(new Error(m)), { text });
      },
    );
  }

  /** The open conversation was seen up to its newest message: only while the page is visible. */
  private markRead(key: string): void {
    if (document.visibilityState === 'hidden') return;
    const last = [...this.stream.messages].reverse().find((m) => same(conversationKey(m, this.me), key));
    if (!last) return;
    // Chat moves the mark to the user's own messages itself.
    if (last.conversationId && !same(last.from, this.me)) this.reporter.seen(last.conversationId, last.id, this.streamPosition());
    this.setLocalMark(conversationKey(last, this.me), last.id);
  }

  /** The per-user mark other tabs follow; only forward. */
  private setLocalMark(key: string, messageId: string): void {
    // Re-read first: another tab may have marked other conversations since.
    const marks = this.deps.store.loadReadMarks(this.me);
    const old = marks[key];
    if (old !== undefined && isAtOrAfter(old, messageId, this.streamPosition())) return;
    marks[key] = messageId;
    this.deps.store.saveReadMarks(this.me, marks);
  }

  /** Chat's marks from its list: the user's own (read on another device meanwhile) and 1:1 peers'. */
  private takeMarks(entries: readonly ConversationListEntry[]): void {
    const position = this.streamPosition();
    this.marks.fromList(entries, position);
    for (const e of entries) {
      if (!e.readUpTo) continue;
      this.reporter.known(e.id, e.readUpTo, position);
      this.setLocalMark(e.type === 'group' ? e.id : e.peer.username, e.readUpTo);
    }
  }

  /** Every (re)connect: what changed while disconnected comes from Chat, not from frames (they are not replayed). */
  private connected(): void {
    if (this.readies++ > 0) void this.refreshList();
    this.typists.reset();
    this.renderTyping();
    this.presenceAsked.clear();
    this.schedulePresence();
  }

  private onRead(f: ReadFrame): void {
    const kind = this.marks.applyFrame(f, this.streamPosition());
    if (kind === 'own') {
      // Another device of the user's read it: clear the badge here too.
      this.reporter.known(f.conversationId, f.readUpTo, this.streamPosition());
      const key = this.keyOf(f.conversationId);
      if (key !== undefined) this.setLocalMark(key, f.readUpTo);
      this.renderList();
    } else if (kind === 'peer' && this.thread?.conversationId === f.conversationId) {
      this.updateSeen();
    }
  }

  private onTyping(f: TypingFrame): void {
    if (same(f.user.username, this.me)) return;
    this.typists.add(f.conversationId, f.user);
    this.renderTyping();
  }

  private onPresence(f: PresenceFrame): void {
    if (!this.presence.apply(f)) return;
    this.renderList();
    this.renderThreadPresence();
  }

  /** A keystroke in the open conversation's box. */
  private typed(): void {
    const t = this.thread;
    if (t?.conversationId) this.typingSender.typed(t.conversationId);
  }

  /** The typing line of the open conversation and the list; again when the next indicator runs out. */
  private renderTyping(): void {
    clearTimeout(this.typingTimer);
    this.typingTimer = undefined;
    const t = this.thread;
    this.view.thread.setTyping(t?.conversationId ? this.typists.typing(t.conversationId) : []);
    this.renderList();
    const next = this.typists.nextChange();
    if (next !== undefined) this.typingTimer = setTimeout(() => this.renderTyping(), Math.max(0, next - Date.now()) + 10);
  }

  /** "Seen" under the user's newest message in an open 1:1, once the peer's mark has reached it. */
  private updateSeen(): void {
    const t = this.thread;
    if (!t || t.groupId || !t.conversationId) return this.view.thread.setSeen(undefined);
    const mine = [...t.messages.messages].reverse().find((m) => same(m.from, this.me) && m.kind !== 'system');
    const position: PositionOf = (id) => t.messages.indexOf(id);
    this.view.thread.setSeen(mine && seenByPeer(this.marks.peerMark(t.conversationId), mine.id, position) ? mine.id : undefined);
  }

  private renderThreadPresence(): void {
    const t = this.thread;
    const p = t && !t.groupId && !same(t.key, this.me) ? this.presence.get(t.key) : undefined;
    this.view.thread.setPresence(presenceText(p) || undefined, p?.status, p?.lastSeen);
  }

  /** Asks Chat about the 1:1 peers on the list not asked about since the last connect. */
  private schedulePresence(): void {
    if (this.presenceTimer !== undefined) return;
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = undefined;
      void this.fetchPresence();
    }, PRESENCE_DELAY_MS);
  }

  private async fetchPresence(): Promise<void> {
    if (this.live?.state !== 'live' && this.live?.state !== 'catching_up') return;
    const peers = this.shown.map((c) => c.peer).filter((p): p is string => p !== undefined && !same(p, this.me) && !this.presenceAsked.has(p.toLowerCase()));
    if (peers.length === 0) return;
    for (const p of peers) this.presenceAsked.add(p.toLowerCase());
    try {
      const users = await this.deps.api.presence(this.token, peers);
      if (this.stopped || !this.presence.applyList(users)) return;
      this.renderList();
      this.renderThreadPresence();
    } catch (err) {
      this.fail(err, () => undefined);
    }
  }

  /** Chat's id of a conversation by its key (a group's is its key; a 1:1's comes from the list or a message). */
  private conversationIdOf(key: string): string | undefined {
    if (key.startsWith('g:')) return key;
    const listed = this.listed?.entries.find((e) => e.type === 'direct' && same(e.peer.username, key));
    if (listed) return listed.id;
    return [...this.stream.messages].reverse().find((m) => m.conversationId && same(conversationKey(m, this.me), key))?.conversationId;
  }

  /** The key (peer name or group id) of a conversation by Chat's id. */
  private keyOf(conversationId: string): string | undefined {
    if (conversationId.startsWith('g:')) return conversationId;
    const listed = this.listed?.entries.find((e) => e.id === conversationId);
    if (listed?.type === 'direct') return listed.peer.username;
    const m = [...this.stream.messages].reverse().find((x) => x.conversationId === conversationId);
    return m ? conversationKey(m, this.me) : undefined;
  }

  /** Positions in the stream, for ordering marks (built once per call site). */
  private streamPosition(): PositionOf {
    let index: Map<string, number> | undefined;
    return (id) => (index ??= new Map(this.stream.messages.map((m, i) => [m.id, i]))).get(id);
  }

  private renderList(): void {
    const fromStream = conversationsFrom(this.stream.messages, this.me, this.deps.store.loadReadMarks(this.me));
    const list = mergeConversations(fromStream, this.listed?.entries, this.me, this.stream.messages, { listedAt: this.listed?.at, exclude: this.gone });
    this.shown = list;
    this.view.renderConversations(list, this.thread?.key, {
      typing: (c) => (c.id ? this.typists.typing(c.id) : []),
      presence: (peer) => this.presence.get(peer),
    });
    this.deps.onUnread?.(list.reduce((n, c) => n + c.unread, 0));
    // New peers on the list (a first message, the list arriving): ask where they are.
    if (this.shown.some((c) => c.peer !== undefined && !this.presenceAsked.has(c.peer.toLowerCase()) && !same(c.peer, this.me))) this.schedulePresence();
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
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** crypto.randomUUID exists only in secure contexts; a page served over plain http elsewhere than localhost still needs idempotency keys. */
function newId(): string {
  if (typeof crypto.randomUUID === 'function') return newClientMsgId();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
