/**
 * The conversation list: one entry per 1:1 peer and per group, most recent activity first.
 *
 * Two sources, because neither is enough alone:
 * - the user's own message stream (`sync` and live frames): always current, and the source
 *   of `unread` (messages from others after `readUpTo[key]`, the id of the newest message the
 *   user read, or after their own newest message: sending moves the sender's read mark, as Chat
 *   does), but it knows a group only by its messages;
 * - Chat's `GET /conversations`: every conversation with its name, member count and role, and
 *   the read marks Chat keeps (`readUpTo`, `unread`, `peerReadUpTo`), but a snapshot whose
 *   `lastMessage` and `unread` may lag the newest message by about a second. Its `unread`
 *   counts when the stream cannot: when it holds neither the read mark nor a message of the
 *   user's in that conversation (a saved stream is trimmed), `unread` is Chat's plus the
 *   stream's messages from others after the list's `lastMessage`.
 * `conversationsFrom` reads the stream; `mergeConversations` lays the list over it.
 *
 * A conversation's key is the other user's name for a 1:1 (as before groups, so read marks
 * and saved copies keep working) and the id (`g:…`) for a group. Usernames hold no ':', so the
 * two cannot collide.
 */
import type { ChatMessage, ConversationListEntry, GroupRole } from './conversation-types.ts';
import { isGroupMessage } from './conversation-types.ts';
import { sameUsername, usernameKey } from '@chat/common/contracts';

export interface GroupSummary {
  id: string;
  /** Unknown only while neither the list nor a `created`/`renamed` message has said it. */
  name?: string;
  memberCount?: number;
  role?: GroupRole;
}

export interface ConversationSummary {
  /** A 1:1: the other user's name, as Chat spells it. */
  peer?: string;
  /** A group: its id and what is known about it. */
  group?: GroupSummary;
  /** Chat's id for the conversation (`dm:…` for a 1:1), once a message or the list has shown it. */
  id?: string;
  /** Null only for a listed conversation whose first message the list has not caught up with. */
  lastMessage: ChatMessage | null;
  unread: number;
  /** The user's read mark, as Chat's list last said (issue 14); null: nothing read yet. */
  readUpTo?: string | null;
  /** A 1:1: the peer's read mark, as Chat's list last said. */
  peerReadUpTo?: string | null;
}

/**
 * A summary built from messages, which always has one. `counted`: `unread` was counted from a
 * known point (the read mark, or a message of the user's), so it is exact; otherwise it counts
 * every message from others the stream holds.
 */
export type StreamSummary = ConversationSummary & { lastMessage: ChatMessage; counted?: boolean };

// Usernames compare as the services compare them (@chat/common's username rule): ASCII letter
// case only, so a look-alike never matches a real name here either. Group ids are ASCII.
const same = sameUsername;

/** The key of the conversation `m` belongs to, as seen by `me`. */
export function conversationKey(m: ChatMessage, me: string): string {
  if (isGroupMessage(m)) return m.conversationId!;
  return same(m.from, me) ? m.to! : m.from;
}

export function summaryKey(c: ConversationSummary): string {
  return c.group ? c.group.id : c.peer!;
}

/** What the list shows as the conversation's name. */
export function summaryTitle(c: ConversationSummary): string {
  return c.group ? (c.group.name ?? 'Group') : c.peer!;
}

/**
 * Whether `me` is in the group, as far as the group's system messages in `messages` say:
 * true after a `created` or `member_added` naming me, false after a `member_removed` or
 * `member_left` naming me, undefined when none names me (the stream was trimmed, or it began
 * after I joined).
 */
export function membershipFrom(messages: Iterable<ChatMessage>, me: string): Map<string, boolean> {
  const member = new Map<string, boolean>();
  for (const m of messages) {
    if (m.kind !== 'system' || !m.conversationId) continue;
    const namesMe = (m.users ?? []).some((u) => same(u.username, me));
    if (m.event === 'created' && (namesMe || same(m.from, me))) member.set(m.conversationId, true);
    else if (m.event === 'member_added' && namesMe) member.set(m.conversationId, true);
    else if ((m.event === 'member_removed' || m.event === 'member_left') && namesMe) member.set(m.conversationId, false);
  }
  return member;
}

export function conversationsFrom(messages: Iterable<ChatMessage>, me: string, readUpTo: Record<string, string> = {}): StreamSummary[] {
  const byKey = new Map<string, StreamSummary>();
  for (const m of messages) {
    const key = conversationKey(m, me);
    let c = byKey.get(key);
    if (!c) {
      c = isGroupMessage(m) ? { group: { id: key }, id: key, lastMessage: m, unread: 0 } : { peer: key, lastMessage: m, unread: 0 };
      byKey.set(key, c);
    }
    c.lastMessage = m;
    if (m.conversationId) c.id = m.conversationId;
    // The group's name as of its newest `created` or `renamed` message.
    if (c.group && m.name !== undefined && (m.event === 'created' || m.event === 'renamed')) c.group.name = m.name;
    if (!same(m.from, me)) c.unread++;
    if (same(m.from, me) || readUpTo[key] === m.id) {
      c.unread = 0;
      c.counted = true;
    }
  }
  // Stream order is storage order, so the last message seen per key is its newest; ties in
  // createdAt keep the stream's order.
  return [...byKey.values()].sort((a, b) => byRecency(a.lastMessage.createdAt, b.lastMessage.createdAt));
}

const byRecency = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

export interface MergeOptions {
  /** When the list was fetched (ISO time); undefined while it has not been. */
  listedAt?: string;
  /**
   * A group in the stream but not in the list is taken to be one the user has left, unless
   * its newest message is this recent (ms) when the list was fetched: the list may not show a
   * group that new yet.
   */
  graceMs?: number;
  /**
   * Groups to leave out whatever the rest says: the ones this client saw the user leave, or
   * that Chat said the user is not in. Chat stores nothing more for someone who left, not even
   * the notice of it, so the stream alone may never say so.
   */
  exclude?: ReadonlySet<string>;
}

/**
 * The stream's summaries with Chat's list laid over them: names, member counts, roles and read
 * marks from the list, the newer of the two last messages, unread counts from the stream (or
 * Chat's, see the top of this file). Groups the
 * stream shows the user leaving or being removed from are left out, and so (once the list is
 * in) are older groups it does not name: Chat no longer counts the user in them.
 */
export function mergeConversations(stream: readonly StreamSummary[], listed: readonly ConversationListEntry[] | undefined, me: string, streamMessages: Iterable<ChatMessage> = [], options: MergeOptions = {}): ConversationSummary[] {
  const member = membershipFrom(streamMessages, me);
  const out = new Map<string, ConversationSummary>();
  const activity = new Map<string, string>();
  for (const c of stream) {
    const key = usernameKey(summaryKey(c));
    out.set(key, { ...c, group: c.group && { ...c.group } });
    activity.set(key, c.lastMessage.createdAt);
  }
  const listedKeys = new Set<string>();
  const counted = new Map(stream.map((c) => [usernameKey(summaryKey(c)), c.counted === true]));
  const sinceListed = newerThanListed(listed ?? [], streamMessages, me);
  for (const e of listed ?? []) {
    const key = usernameKey(e.type === 'group' ? e.id : e.peer.username);
    listedKeys.add(key);
    const known = out.get(key);
    const lastMessage = newer(known?.lastMessage ?? null, e.lastMessage);
    const unread = e.unread !== undefined && !counted.get(key) ? e.unread + (sinceListed.get(key) ?? 0) : (known?.unread ?? 0);
    const c = { ...summaryOf(e), lastMessage, unread };
    if (known?.peer) c.peer = known.peer;
    out.set(key, c);
    activity.set(key, [e.lastActivityAt, lastMessage?.createdAt ?? '', activity.get(key) ?? ''].sort().at(-1)!);
  }
  const graceMs = options.graceMs ?? 10_000;
  const cutoff = options.listedAt !== undefined ? new Date(Date.parse(options.listedAt) - graceMs).toISOString() : undefined;
  for (const [key, c] of out) {
    if (!c.group) continue;
    const gone = member.get(c.group.id) === false || options.exclude?.has(c.group.id) === true || (cutoff !== undefined && !listedKeys.has(key) && (c.lastMessage?.createdAt ?? '') < cutoff);
    if (gone) out.delete(key);
  }
  return [...out.entries()].sort(([a], [b]) => byRecency(activity.get(a)!, activity.get(b)!)).map(([, c]) => c);
}

/**
 * Per listed conversation that has Chat's `unread`: the stream's messages from others after
 * the list's `lastMessage` (after its position when the stream holds it, else by time).
 */
function newerThanListed(listed: readonly ConversationListEntry[], streamMessages: Iterable<ChatMessage>, me: string): Map<string, number> {
  const last = new Map<string, ChatMessage | null>();
  for (const e of listed) if (e.unread !== undefined) last.set(usernameKey(e.type === 'group' ? e.id : e.peer.username), e.lastMessage);
  const counts = new Map<string, number>();
  if (last.size === 0) return counts;
  for (const m of streamMessages) {
    const key = usernameKey(conversationKey(m, me));
    if (!last.has(key)) continue;
    const l = last.get(key);
    if (l && m.id === l.id) counts.set(key, 0);
    else if (!same(m.from, me) && (!l || m.createdAt > l.createdAt || counts.has(key))) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** A list entry as a summary, with Chat's unread count and read marks when it sends them (0 otherwise: the stream counts then). */
export function summaryOf(e: ConversationListEntry): ConversationSummary {
  const read = { unread: e.unread ?? 0, ...(e.readUpTo !== undefined ? { readUpTo: e.readUpTo } : {}) };
  return e.type === 'group'
    ? { group: { id: e.id, name: e.name, memberCount: e.memberCount, role: e.role }, id: e.id, lastMessage: e.lastMessage, ...read }
    : { peer: e.peer.username, id: e.id, lastMessage: e.lastMessage, ...read, ...(e.peerReadUpTo !== undefined ? { peerReadUpTo: e.peerReadUpTo } : {}) };
}

function newer(a: ChatMessage | null, b: ChatMessage | null): ChatMessage | null {
  if (!a || !b) return a ?? b;
  if (a.id === b.id) return a;
  return b.createdAt > a.createdAt ? b : a;
}
