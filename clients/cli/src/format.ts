/**
 * How messages look in a terminal: `12:03:04  alice → bob  hello` (local time; the date too
 * when it is not today). `--json` prints the API's own objects instead, one per line.
 *
 * Message text comes from other people and goes straight to a terminal, so control characters
 * are shown, not obeyed: an ESC could otherwise recolour, move the cursor or retitle the
 * window, a CR could overwrite the sender's name, and bidi overrides could reorder what is shown.
 */
import { isAtOrAfter, isGroupMessage, type ChatMessage, type ConversationSummary } from '@chat/client-core';

const pad = (n: number) => String(n).padStart(2, '0');

export function formatTime(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Control characters as visible symbols; newlines and tabs are kept (the caller lays out lines). */
export function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\n' || ch === '\t') out += ch;
    // C0 controls to their Control Pictures (ESC → ␛, CR → ␍), DEL → ␡.
    else if (c < 0x20) out += String.fromCodePoint(0x2400 + c);
    else if (c === 0x7f) out += '\u2421';
    // C1 controls (0x9b is a one-byte CSI) and the bidi embeddings, overrides and isolates.
    else if ((c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) out += '\ufffd';
    else out += ch;
  }
  return out;
}

/** A group's id → its name, where known; a group without one shows as its id. */
export type GroupNames = (id: string) => string | undefined;

/** `#Team`, or `#g:…` while the name is not known. */
export function groupLabel(id: string, names?: GroupNames): string {
  return `#${visible(names?.(id) ?? id)}`;
}

/**
 * `12:03:04  alice → bob  hello` for a 1:1, `12:03:04  alice → #Team  hello` for a group, and
 * `12:03:04  #Team  * alice added bob` for a system message (Chat's own sentence).
 */
export function formatMessage(m: ChatMessage, now?: Date, names?: GroupNames): string {
  const group = isGroupMessage(m) ? groupLabel(m.conversationId!, names) : undefined;
  const who = m.kind === 'system' ? `${group ?? ''}  * ` : `${visible(m.from)} → ${group ?? visible(m.to ?? '')}  `;
  const head = `${formatTime(m.createdAt, now)}  ${who}`;
  // Later lines of a multi-line text start under the first one, so the sender stays readable.
  const indent = ' '.repeat([...head].length);
  return head + visible(m.text).split('\n').join(`\n${indent}`);
}

/** What a conversation line names: the peer, or `#` and the group's name. */
export function conversationTitle(c: ConversationSummary): string {
  return c.group ? groupLabel(c.group.id, () => c.group!.name) : visible(c.peer ?? '');
}

/** `(3)` for three unread messages, '' for none. */
export const unreadBadge = (c: ConversationSummary): string => (c.unread > 0 ? `(${c.unread})` : '');

/**
 * One line per conversation, titles padded to `titleWidth`: `bob    12:03:04  you: hello`,
 * `#Team  12:03:04  * alice added you`. With `unreadWidth` (the widest badge of the list; 0 when
 * nothing is unread, and then there is no column) the unread count follows the title:
 * `bob  (2)  12:03:04  bob: hello`. A 1:1 whose last message is the user's and that the peer
 * has read ends in `  ✓ seen`.
 */
export function formatConversation(c: ConversationSummary, me: string, titleWidth: number, now?: Date, unreadWidth = 0): string {
  const title = conversationTitle(c).padEnd(titleWidth);
  const badge = unreadWidth > 0 ? `  ${unreadBadge(c).padEnd(unreadWidth)}` : '';
  const last = c.lastMessage;
  if (!last) return `${title}${badge}  (no messages yet)`;
  const mine = last.from.toLowerCase() === me.toLowerCase();
  const who = last.kind === 'system' ? '*' : mine ? 'you:' : `${visible(last.from)}:`;
  const text = visible(last.text).replace(/\s+/g, ' ').trim();
  const short = [...text].length > 60 ? `${[...text].slice(0, 59).join('')}…` : text;
  const seen = !c.group && mine && last.kind !== 'system' && c.peerReadUpTo && isAtOrAfter(c.peerReadUpTo, last.id) ? '  ✓ seen' : '';
  return `${title}${badge}  ${formatTime(last.createdAt, now)}  ${who} ${short}${seen}`;
}
