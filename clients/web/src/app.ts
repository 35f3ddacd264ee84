/**
 * Which screen is up: the login form, or a ChatSession for the stored session. Tabs of one
 * browser share the session through localStorage, so a login, a logout or an expiry in one
 * tab reaches the others through the `storage` event.
 */
import { ApiError, ChatApi, describeError, type Endpoints, type SocketLike } from '@chat/client-core';
import { ChatSession } from './chat-session.ts';
import { renderLogin } from './login-view.ts';
import { PageStorage, readKey, SESSION_KEY, type StoredSession } from './storage.ts';

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

  private onStorage(ev: StorageEvent): void {
    // key null: the whole storage was cleared.
    if (ev.key === SESSION_KEY || ev.key === null) {
      const stored = this.store.loadSession();
      if (stored?.token === this.current?.token) return;
      if (stored && stored.expiresAt > Date.now()) this.enter(stored);
      else if (this.current) this.showLogin();
      return;
    }
    const me = this.store.loadSession()?.user.username;
    if (this.current && me && ev.key === readKey(me)) this.current.readMarksChanged();
  }
}
