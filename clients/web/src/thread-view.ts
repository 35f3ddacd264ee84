/**
 * One conversation: its messages (oldest at the top, "Load older" above them), and the send
 * box. Messages are inserted at the index MessageList gives, so the DOM mirrors that list and
 * needs no re-render. A group's thread also names each sender, shows system messages (Chat's
 * sentence, centred) and has the members panel (group-panel.ts) under its title.
 *
 * Issue 14: a 1:1's header says whether the peer is online (or when they were last seen), a
 * "Seen" line sits under the user's newest message once the peer has read it, and "bob is
 * typing…" shows above the send box. Every keystroke in the box calls `typing`; the session
 * decides how often that goes on the wire.
 */
import { typingText, type ChatMessage, type GroupConversation } from '@chat/client-core';
import { h, showError } from './dom.ts';
import { GroupPanel, type GroupActions } from './group-panel.ts';

export interface ThreadActions extends GroupActions {
  /** Rejects with the error to show under the box. */
  send(text: string): Promise<void>;
  loadOlder(): Promise<void>;
  /** The draft changed (a keystroke). */
  typing(): void;
}

/** What the thread pane shows: a 1:1 (titled by the peer) or a group (by its name). */
export interface ThreadHeading {
  title: string;
  group: boolean;
}

/** How a message reached the page; kept on the element for tests and for debugging. */
export type Via = 'history' | 'live' | 'replayed' | 'sent';

export class ThreadView {
  readonly element: HTMLElement;
  private readonly title = h('h2', { 'data-testid': 'thread-peer' });
  private readonly presence = h('span', { class: 'presence-text', hidden: true, 'data-testid': 'thread-presence' });
  private readonly typingLine = h('p', { class: 'typing', 'aria-live': 'polite', 'data-testid': 'typing-indicator' });
  private readonly seen = h('span', { class: 'seen', 'data-testid': 'seen' }, 'Seen');
  private readonly older = h('button', { type: 'button', class: 'link older', hidden: true, 'data-testid': 'load-older' }, 'Load older messages');
  private readonly list = h('ol', { class: 'messages', 'data-testid': 'messages' });
  private readonly scroller = h('div', { class: 'scroller' }, this.older, this.list);
  private readonly input = h('textarea', { rows: '1', placeholder: 'Write a message…', 'aria-label': 'Message', 'data-testid': 'composer-input' });
  private readonly error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'send-error' });
  private readonly composer = h('form', { class: 'composer' }, h('div', { class: 'row' }, this.input, h('button', { type: 'submit', class: 'primary', 'data-testid': 'composer-send' }, 'Send')), this.error);
  private readonly empty = h('p', { class: 'placeholder' }, 'Pick a conversation, start one by username, or create a group.');
  private readonly notice = h('p', { class: 'notice', hidden: true, 'data-testid': 'thread-notice' });
  private readonly panel: GroupPanel;
  private isGroup = false;

  constructor(
    private readonly me: string,
    private readonly actions: ThreadActions,
  ) {
    this.panel = new GroupPanel(me, actions);
    this.element = h('section', { class: 'thread', 'data-testid': 'thread' }, this.empty);
    this.older.addEventListener('click', () => {
      this.older.disabled = true;
      this.actions.loadOlder().finally(() => (this.older.disabled = false));
    });
    this.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('input', () => {
      if (this.input.value) this.actions.typing();
    });
    // Enter sends, Shift+Enter starts a new line (the usual chat convention).
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      }
    });
  }

  /** Empties the pane for a conversation (or back to the placeholder). */
  show(heading: ThreadHeading | undefined): void {
    this.list.replaceChildren();
    this.older.hidden = true;
    showError(this.error, undefined);
    this.setMember(true);
    if (heading === undefined) {
      this.element.replaceChildren(this.empty);
      return;
    }
    this.isGroup = heading.group;
    this.title.textContent = heading.title;
    this.title.dataset.kind = heading.group ? 'group' : 'direct';
    this.panel.element.replaceChildren();
    this.panel.element.hidden = true;
    this.setPresence(undefined);
    this.setTyping([]);
    this.seen.remove();
    const header = h('header', { class: 'thread-header' }, this.title, heading.group ? this.panel.element : this.presence);
    this.element.replaceChildren(header, this.notice, this.scroller, this.typingLine, this.composer);
    this.input.focus();
  }

  /** The group as Chat last described it: name, members, roles. */
  setGroup(group: GroupConversation): void {
    this.title.textContent = group.name;
    this.panel.element.hidden = false;
    this.panel.render(group);
  }

  /** A group the user is no longer in: its history stays on screen, sending is off. */
  setMember(member: boolean): void {
    this.notice.textContent = member ? '' : 'You are no longer a member of this group.';
    this.notice.hidden = member;
    this.composer.hidden = !member;
    if (!member) this.panel.element.hidden = true;
  }

  showGroupError(message: string | undefined): void {
    this.panel.showError(message);
  }

  insert(m: ChatMessage, index: number, via: Via): void {
    const s = this.scroller;
    const fromBottom = s.scrollHeight - s.scrollTop;
    const atBottom = fromBottom - s.clientHeight < 40;
    const mine = m.from.toLowerCase() === this.me.toLowerCase();
    const time = h('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, timeLabel(m.createdAt));
    const item =
      m.kind === 'system'
        ? h('li', { class: 'message system', 'data-testid': 'message', 'data-kind': 'system', 'data-event': m.event, 'data-id': m.id, 'data-via': via }, h('p', { class: 'text', 'data-testid': 'system-text' }, m.text), time)
        : h(
            'li',
            { class: mine ? 'message mine' : 'message theirs', 'data-testid': 'message', 'data-id': m.id, 'data-via': via, 'data-from': m.from },
            // In a group, whose bubble it is is not implied by the conversation.
            this.isGroup && !mine ? h('span', { class: 'sender', 'data-testid': 'message-sender' }, m.from) : null,
            h('p', { class: 'text', 'data-testid': 'message-text' }, m.text),
            time,
          );
    this.list.insertBefore(item, this.list.children[index] ?? null);
    const atEnd = index === this.list.children.length - 1;
    // New at the end: follow it if the reader was at the bottom (or sent it). Older above:
    // keep what the reader looks at in place.
    if (atEnd && (atBottom || via === 'sent')) s.scrollTop = s.scrollHeight;
    else if (!atEnd) s.scrollTop = s.scrollHeight - fromBottom;
  }

  /**
   * A 1:1 peer's "online" / "last seen …"; undefined or empty hides it. `status` and `lastSeen`
   * (ISO) go on the element as data-status and data-last-seen, for styling and for tests.
   */
  setPresence(text: string | undefined, status?: string, lastSeen?: string): void {
    this.presence.textContent = text ?? '';
    this.presence.hidden = !text;
    if (status) this.presence.dataset.status = status;
    else delete this.presence.dataset.status;
    if (lastSeen) this.presence.dataset.lastSeen = lastSeen;
    else delete this.presence.dataset.lastSeen;
  }

  /**
   * "bob is typing…" for `users`, or nothing for none (the line keeps its height, so the thread
   * does not jump). Who is typing goes on the line as data-typing (usernames, comma-separated).
   */
  setTyping(users: readonly { username: string }[]): void {
    this.typingLine.textContent = typingText(users);
    if (users.length > 0) this.typingLine.dataset.typing = users.map((u) => u.username).join(',');
    else delete this.typingLine.dataset.typing;
  }

  /** Puts "Seen" under the message with this id (the user's newest one the peer has read), or nowhere. */
  setSeen(messageId: string | undefined): void {
    const item = messageId === undefined ? null : this.list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(messageId)}"]`);
    if (!item) {
      this.seen.remove();
      return;
    }
    if (this.seen.parentElement !== item) item.append(this.seen);
  }

  setHasOlder(hasOlder: boolean): void {
    this.older.hidden = !hasOlder;
  }

  showError(message: string | undefined): void {
    showError(this.error, message);
  }

  private submit(): void {
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = '';
    showError(this.error, undefined);
    this.actions.send(text).catch((err: Error) => {
      // Give the text back unless something new was typed meanwhile.
      if (!this.input.value) this.input.value = text;
      showError(this.error, err.message);
    });
  }
}

function timeLabel(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
