/**
 * How messages look in a terminal: `12:03:04  alice → bob  hello` (local time; the date too
 * when it is not today). `--json` prints the API's own objects instead, one per line.
 *
 * Message text comes from other people and goes straight to a terminal, so control characters
 * are shown, not obeyed: an ESC could otherwise recolour, move the cursor or retitle the
 * window, a CR could overwrite the sender's name, and bidi overrides could reorder what is shown.
 */
import type { ChatMessage, ConversationSummary } from '@chat/client-core';

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

export function formatMessage(m: ChatMessage, now?: Date): string {
  const head = `${formatTime(m.createdAt, now)}  ${visible(m.from)} → ${visible(m.to)}  `;
  // Later lines of a multi-line text start under the first one, so the sender stays readable.
  const indent = ' '.repeat([...head].length);
  return head + visible(m.text).split('\n').join(`\n${indent}`);
}

/** One line per conversation, peers padded to `peerWidth`: `bob    12:03:04  you: hello`. */
export function formatConversation(c: ConversationSummary, me: string, peerWidth: number, now?: Date): string {
  const who = c.lastMessage.from === me ? 'you' : visible(c.lastMessage.from);
  const text = visible(c.lastMessage.text).replace(/\s+/g, ' ').trim();
  const short = [...text].length > 60 ? `${[...text].slice(0, 59).join('')}…` : text;
  return `${visible(c.peer).padEnd(peerWidth)}  ${formatTime(c.lastMessage.createdAt, now)}  ${who}: ${short}`;
}
