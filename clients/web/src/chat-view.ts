/**
 * The logged-in screen: a header (who, connection state, log out), the conversation list with
 * a "new conversation" box and a "new group" form, and the thread pane (thread-view.ts). It
 * only draws; chat-session.ts owns the state and calls in.
 */
import { presenceText, summaryKey, summaryTitle, typingText, type ConversationSummary, type LiveStatus, type Presence } from '@chat/client-core';
import { h, showError } from './dom.ts';
import { statusText } from './status-text.ts';
import { ThreadView, type ThreadActions } from './thread-view.ts';
import { parseUsernames } from './usernames.ts';

export interface ChatActions extends ThreadActions {
  /** `key`: the peer's name for a 1:1, the id for a group (core's `summaryKey`). */
  open(key: string): void;
  /** Rejects with the error to show beside the box (e.g. no such user). */
  start(username: string): Promise<void>;
  /** Rejects with the error to show under the form. */
  createGroup(name: string, members: string[]): Promise<void>;
  logout(): void;
}

/** What the list shows beside each conversation besides its summary (issue 14). */
export interface ListDecor {
  /** Who is typing in a conversation now (none: the preview shows instead). */
  typing?(c: ConversationSummary): readonly { username: string }[];
  /** A 1:1 peer's presence, when known. */
  presence?(peer: string): Presence | undefined;
}

export class ChatView {
  readonly thread: ThreadView;
  private readonly status = h('span', { class: 'status', role: 'status', 'data-testid': 'connection-status', 'data-state': 'stopped' }, 'Offline');
  private readonly list = h('ul', { class: 'conversations', 'data-testid': 'conversation-list' });
  private readonly banner = h('p', { class: 'error banner', role: 'alert', hidden: true, 'data-testid': 'error' });
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor(root: HTMLElement, private readonly me: string, private readonly actions: ChatActions) {
    this.thread = new ThreadView(me, actions);
    const logout = h('button', { type: 'button', class: 'link', 'data-testid': 'logout' }, 'Log out');
    logout.addEventListener('click', () => actions.logout());
    root.replaceChildren(
      h(
        'div',
        { class: 'chat' },
        h('header', { class: 'topbar' }, h('strong', { class: 'brand' }, 'Chat'), this.status, h('span', { class: 'spacer' }), h('span', { class: 'me', 'data-testid': 'current-user' }, me), logout),
        this.banner,
        h('div', { class: 'panes' }, h('aside', { class: 'sidebar' }, this.newConversationForm(), this.newGroupForm(), this.list), this.thread.element),
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

  renderConversations(conversations: readonly ConversationSummary[], activeKey: string | undefined, decor: ListDecor = {}): void {
    if (conversations.length === 0) {
      this.list.replaceChildren(h('li', { class: 'empty' }, 'No conversations yet.'));
      return;
    }
    this.list.replaceChildren(
      ...conversations.map((c) => {
        const key = summaryKey(c);
        const active = activeKey !== undefined && key.toLowerCase() === activeKey.toLowerCase();
        const typists = decor.typing?.(c) ?? [];
        const typing = typingText(typists);
        const presence = c.peer !== undefined ? decor.presence?.(c.peer) : undefined;
        const status = presence && presence.status !== 'unknown' ? presence.status : undefined;
        const button = h(
          'button',
          {
            type: 'button',
            class: `conversation${c.group ? ' group' : ''}${active ? ' active' : ''}`,
            'data-testid': 'conversation',
            'data-key': key,
            'data-peer': c.peer,
            'data-group': c.group?.name,
            'aria-current': active ? 'true' : undefined,
          },
          h(
            'span',
            { class: 'peer' },
            status ? h('span', { class: 'presence-dot', 'data-testid': 'presence', 'data-status': status, title: presenceText(presence), 'aria-label': presenceText(presence) }) : null,
            summaryTitle(c),
          ),
          c.unread > 0 ? h('span', { class: 'unread', 'data-testid': 'unread-count', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null,
          typing ? h('span', { class: 'preview typing', 'data-testid': 'list-typing', 'data-typing': typists.map((u) => u.username).join(',') }, typing) : h('span', { class: 'preview' }, preview(c, this.me)),
        );
        button.addEventListener('click', () => this.actions.open(key));
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

  private newGroupForm(): HTMLDetailsElement {
    const name = h('input', { name: 'group-name', placeholder: 'Group name', autocomplete: 'off', required: true, maxlength: '100', 'aria-label': 'Group name', 'data-testid': 'new-group-name' });
    const members = h('input', { name: 'group-members', placeholder: 'Members: bob, carol', autocomplete: 'off', required: true, 'aria-label': 'Members (usernames)', 'data-testid': 'new-group-members' });
    const submit = h('button', { type: 'submit', 'data-testid': 'new-group-submit' }, 'Create');
    const error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'new-group-error' });
    const form = h('form', { class: 'new-group' }, name, members, submit, error);
    const details = h('details', { class: 'new-group-box', 'data-testid': 'new-group' }, h('summary', { 'data-testid': 'new-group-toggle' }, 'New group'), form);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const groupName = name.value.trim();
      const users = parseUsernames(members.value);
      if (!groupName || users.length === 0) return;
      showError(error, undefined);
      submit.disabled = true;
      this.actions.createGroup(groupName, users).then(
        () => {
          submit.disabled = false;
          name.value = members.value = '';
          details.open = false;
        },
        (err: Error) => {
          submit.disabled = false;
          showError(error, err.message);
        },
      );
    });
    return details;
  }
}

/** The last message in one line: a group's names its sender (a system message is its own sentence). */
function preview(c: ConversationSummary, me: string): string {
  const m = c.lastMessage;
  if (!m) return 'No messages yet';
  if (!c.group || m.kind === 'system') return m.text;
  return `${m.from.toLowerCase() === me.toLowerCase() ? 'You' : m.from}: ${m.text}`;
}
