/**
 * Which screen is up: the login form, or a ChatSession for this tab's stored session. Each tab
 * has its own session (storage.ts), so two tabs of one browser can be two users chatting with
 * each other, and a login, a logout or an expiry in one tab leaves the other tabs as they are.
 * What tabs do share is per user: another tab of the same user changing the read marks reaches
 * this one through the `storage` event, so the unread counts agree.
 */
import { ApiError, ChatApi, describeError, type Endpoints, type SocketLike } from '@chat/client-core';
import { ChatSession } from './chat-session.ts';
import { renderLogin } from './login-view.ts';
import { PageStorage, readKey, type StoredSession } from './storage.ts';

const SESSION_EXPIRED = describeError(new ApiError(401, 'token_expired', 'token expired')).message;

export class App {
  private readonly api: ChatApi;
  private current: ChatSession | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly endpoints: Endpoints,
    private readonly store: PageStorage,
  ) {
    this.api = new ChatApi(endpoints);
    window.addEventListener('storage', (ev) => this.onStorage(ev));
  }

  start(): void {
    const session = this.store.loadSession();
    if (!session) return this.showLogin();
    if (session.expiresAt <= Date.now()) {
      this.store.clearSession(session.token);
      return this.showLogin(SESSION_EXPIRED);
    }
    this.enter(session);
  }

  private showLogin(notice?: string): void {
    this.leave();
    document.title = 'Chat';
    renderLogin(
      this.root,
      {
        login: (username, password) => this.login(username, password),
        register: async (username, password) => {
          await this.api.register(username, password);
          await this.login(username, password);
        },
      },
      notice,
    );
  }

  private async login(username: string, password: string): Promise<void> {
    const res = await this.api.login(username, password);
    const session: StoredSession = { token: res.token, user: res.user, expiresAt: Date.now() + res.expiresIn * 1000 };
    this.store.saveSession(session);
    this.enter(session);
  }

  private enter(session: StoredSession): void {
    this.leave();
    const chat = new ChatSession({
      root: this.root,
      session,
      api: this.api,
      store: this.store,
      gatewayUrl: this.endpoints.gatewayUrl,
      // The browser's WebSocket has the shape LiveConnection uses; only its event types are richer.
      connect: (url) => new WebSocket(url) as unknown as SocketLike,
      events: {
        expired: () => {
          this.store.clearSession(session.token);
          this.showLogin(SESSION_EXPIRED);
        },
        logout: () => {
          chat.forgetSaved();
          this.store.clearSession(session.token);
          this.showLogin();
        },
      },
      onUnread: (n) => (document.title = n > 0 ? `(${n}) Chat` : 'Chat'),
    });
    this.current = chat;
    void chat.start();
  }

  private leave(): void {
    this.current?.stop();
    this.current = undefined;
  }

  /** Fired by another tab's change to the shared store; the session is not in it. */
  private onStorage(ev: StorageEvent): void {
    const chat = this.current;
    // key null: the whole store was cleared, read marks included.
    if (chat && (ev.key === null || ev.key === readKey(chat.username))) chat.readMarksChanged();
  }
}
