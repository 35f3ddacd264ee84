/**
 * One conversation: its messages (oldest at the top, "Load older" above them), and the send
 * box. Messages are inserted at the index MessageList gives, so the DOM mirrors that list and
 * needs no re-render.
 */
import type { ChatMessage } from '@chat/client-core';
import { h, showError } from './dom.ts';

export interface ThreadActions {
  /** Rejects with the error to show under the box. */
  send(text: string): Promise<void>;
  loadOlder(): Promise<void>;
}

/** How a message reached the page; kept on the element for tests and for debugging. */
export type Via = 'history' | 'live' | 'replayed' | 'sent';

export class ThreadView {
  readonly element: HTMLElement;
  private readonly title = h('h2', { 'data-testid': 'thread-peer' });
  private readonly older = h('button', { type: 'button', class: 'link older', hidden: true, 'data-testid': 'load-older' }, 'Load older messages');
  private readonly list = h('ol', { class: 'messages', 'data-testid': 'messages' });
  private readonly scroller = h('div', { class: 'scroller' }, this.older, this.list);
  private readonly input = h('textarea', { rows: '1', placeholder: 'Write a message…', 'aria-label': 'Message', 'data-testid': 'composer-input' });
  private readonly error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'send-error' });
  private readonly composer = h('form', { class: 'composer' }, h('div', { class: 'row' }, this.input, h('button', { type: 'submit', class: 'primary', 'data-testid': 'composer-send' }, 'Send')), this.error);
  private readonly empty = h('p', { class: 'placeholder' }, 'Pick a conversation, or start one by username.');

  constructor(
    private readonly me: string,
    private readonly actions: ThreadActions,
  ) {
    this.element = h('section', { class: 'thread', 'data-testid': 'thread' }, this.empty);
    this.older.addEventListener('click', () => {
      this.older.disabled = true;
      this.actions.loadOlder().finally(() => (this.older.disabled = false));
    });
    this.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    // Enter sends, Shift+Enter starts a new line (the usual chat convention).
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      }
    });
  }

  /** Empties the pane for `peer` (or back to the placeholder). */
  show(peer: string | undefined): void {
    this.list.replaceChildren();
    this.older.hidden = true;
    showError(this.error, undefined);
    if (peer === undefined) {
      this.element.replaceChildren(this.empty);
      return;
    }
    this.title.textContent = peer;
    this.element.replaceChildren(h('header', { class: 'thread-header' }, this.title), this.scroller, this.composer);
    this.input.focus();
  }

  /** The peer's name as Chat spells it, once a message shows it. */
  setTitle(peer: string): void {
    this.title.textContent = peer;
  }

  insert(m: ChatMessage, index: number, via: Via): void {
    const s = this.scroller;
    const fromBottom = s.scrollHeight - s.scrollTop;
    const atBottom = fromBottom - s.clientHeight < 40;
    const mine = m.from.toLowerCase() === this.me.toLowerCase();
    const item = h(
      'li',
      { class: mine ? 'message mine' : 'message theirs', 'data-testid': 'message', 'data-id': m.id, 'data-via': via },
      h('p', { class: 'text', 'data-testid': 'message-text' }, m.text),
      h('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, timeLabel(m.createdAt)),
    );
    this.list.insertBefore(item, this.list.children[index] ?? null);
    const atEnd = index === this.list.children.length - 1;
    // New at the end: follow it if the reader was at the bottom (or sent it). Older above:
    // keep what the reader looks at in place.
    if (atEnd && (atBottom || via === 'sent')) s.scrollTop = s.scrollHeight;
    else if (!atEnd) s.scrollTop = s.scrollHeight - fromBottom;
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
