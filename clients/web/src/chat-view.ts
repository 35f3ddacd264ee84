/**
 * The logged-in screen: a header (who, connection state, log out), the conversation list with
 * a "new conversation" box, and the thread pane (thread-view.ts). It only draws; app.ts owns
 * the state and calls in.
 */
import type { ConversationSummary, LiveStatus } from '@chat/client-core';
import { h, showError } from './dom.ts';
import { statusText } from './status-text.ts';
import { ThreadView, type ThreadActions } from './thread-view.ts';

export interface ChatActions extends ThreadActions {
  open(peer: string): void;
  /** Rejects with the error to show beside the box (e.g. no such user). */
  start(username: string): Promise<void>;
  logout(): void;
}

export class ChatView {
  readonly thread: ThreadView;
  private readonly status = h('span', { class: 'status', role: 'status', 'data-testid': 'connection-status', 'data-state': 'stopped' }, 'Offline');
  private readonly list = h('ul', { class: 'conversations', 'data-testid': 'conversation-list' });
  private readonly banner = h('p', { class: 'error banner', role: 'alert', hidden: true, 'data-testid': 'error' });
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(root: HTMLElement, me: string, private readonly actions: ChatActions) {
    this.thread = new ThreadView(me, actions);
    const logout = h('button', { type: 'button', class: 'link', 'data-testid': 'logout' }, 'Log out');
    logout.addEventListener('click', () => actions.logout());
    root.replaceChildren(
      h(
        'div',
        { class: 'chat' },
        h('header', { class: 'topbar' }, h('strong', { class: 'brand' }, 'Chat'), this.status, h('span', { class: 'spacer' }), h('span', { class: 'me', 'data-testid': 'current-user' }, me), logout),
        this.banner,
        h('div', { class: 'panes' }, h('aside', { class: 'sidebar' }, this.newConversationForm(), this.list), this.thread.element),
      ),
    );
  }

  /** The header pill; while waiting it counts down to the next attempt. */
  setStatus(status: LiveStatus): void {
    clearInterval(this.countdown);
    this.countdown = undefined;
    this.status.dataset.state = status.state;
    this.status.textContent = statusText(status);
    if (status.state === 'waiting' && status.retryInMs !== undefined) {
      const until = Date.now() + status.retryInMs;
      this.countdown = setInterval(() => (this.status.textContent = statusText(status, until - Date.now())), 250);
    }
  }

  showError(message: string | undefined): void {
    showError(this.banner, message);
  }

  renderConversations(conversations: readonly ConversationSummary[], activePeer: string | undefined): void {
    if (conversations.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No conversations yet.'));
      return;
    }
    this.list.replaceChildren(
      ...conversations.map((c) => {
        const active = activePeer !== undefined && c.peer.toLowerCase() === activePeer.toLowerCase();
        const button = h(
          'button',
          { type: 'button', class: active ? 'conversation active' : 'conversation', 'data-testid': 'conversation', 'data-peer': c.peer, 'aria-current': active ? 'true' : undefined },
          h('span', { class: 'peer' }, c.peer),
          c.unread > 0 ? h('span', { class: 'unread', 'data-testid': 'unread-count', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null,
          h('span', { class: 'preview' }, c.lastMessage.text),
        );
        button.addEventListener('click', () => this.actions.open(c.peer));
        return h('li', {}, button);
      }),
    );
  }

  destroy(): void {
    clearInterval(this.countdown);
  }

  private newConversationForm(): HTMLFormElement {
    const input = h('input', { name: 'peer', placeholder: 'Username', autocomplete: 'off', required: true, 'aria-label': 'Start a conversation with', 'data-testid': 'new-conversation-input' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'new-conversation-error' });
    const form = h('form', { class: 'new-conversation' }, h('div', { class: 'row' }, input, h('button', { type: 'submit', 'data-testid': 'new-conversation-submit' }, 'Start')), error);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      showError(error, undefined);
      this.actions.start(name).then(
        () => (input.value = ''),
        (err: Error) => showError(error, err.message),
      );
    });
    return form;
  }
}
