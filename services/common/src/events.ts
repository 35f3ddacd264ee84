/** A user as messages and conversations name them. */
export interface UserRef {
  id: string;
  username: string;
}

/** What a system message records (membership changes and renames of a group). */
export type SystemEvent = 'created' | 'member_added' | 'member_removed' | 'member_left' | 'renamed' | 'role_changed';

/**
 * A stored message as the API and events show it. Every message names its conversation
 * (`dm:<idA>:<idB>` for 1:1, `g:<hex>` for a group). A 1:1 message has `to`; a group message
 * does not. Text messages carry no `kind`; a system message carries `kind: "system"`, the
 * `event`, its `actor` (also its `from`) and the `users` it concerns, and a readable `text`.
 */
export interface ChatMessage {
  id: string;
  /** Absent only in events and entries written before conversations existed. */
  conversationId?: string;
  from: string;
  to?: string;
  text: string;
  createdAt: string;
  clientMsgId?: string;
  kind?: 'system';
  event?: SystemEvent;
  actor?: UserRef;
  users?: UserRef[];
  /** The group's name, for `created` and `renamed`. */
  name?: string;
  /** The new role, for `role_changed`. */
  role?: 'admin' | 'member';
  /** Who became owner, for `member_left` when the owner left. */
  newOwner?: UserRef;
}

/** Every field a message may show, in the order Chat writes them. */
const MESSAGE_FIELDS = ['id', 'conversationId', 'from', 'to', 'text', 'createdAt', 'clientMsgId', 'kind', 'event', 'actor', 'users', 'name', 'role', 'newOwner'] as const;

/** Only the API fields of a message, whatever else an event or a page might carry. */
export function publicMessage(m: ChatMessage): ChatMessage {
  const out: Record<string, unknown> = {};
  for (const field of MESSAGE_FIELDS) if (m[field] !== undefined) out[field] = m[field];
  return out as unknown as ChatMessage;
}

/**
 * The event published to `chat.events` for every stored message. `cursors` maps each
 * recipient's user id to the sync cursor that ends at this message in their timeline (both
 * participants of a 1:1 message, one entry for a message to oneself, every member of a group
 * when it was stored), so a gateway can route and stamp frames without asking anyone. Its size
 * is bounded by MAX_GROUP_MEMBERS: about 75 bytes per recipient, ~75 KB for 1,000 members.
 */
export interface NewMessageEvent {
  type: 'new_message';
  version: 1;
  message: ChatMessage;
  cursors: Record<string, string>;
}

/** Every `type` of an event on `chat.events`; api/asyncapi.yaml is checked against this table. */
export const EVENT_TYPES = ['new_message'] as const satisfies readonly NewMessageEvent['type'][];
// Complete: an event type added to the interfaces but not to the table stops compiling here.
const everyEventType: [Exclude<NewMessageEvent['type'], (typeof EVENT_TYPES)[number]>] extends [never] ? true : never = true;
void everyEventType;

const isString = (v: unknown): v is string => typeof v === 'string';

/** Validates an event from the wire. Returns undefined for anything malformed (log and drop). */
export function parseNewMessageEvent(content: unknown): NewMessageEvent | undefined {
  let value = content;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (isString(value)) {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Partial<NewMessageEvent>;
  if (e.type !== 'new_message' || e.version !== 1) return undefined;
  const m = e.message as Partial<ChatMessage> | undefined;
  if (!m || !isString(m.id) || !isString(m.from) || !isString(m.text) || !isString(m.createdAt)) return undefined;
  if (m.to !== undefined && !isString(m.to)) return undefined;
  if (m.conversationId !== undefined && !isString(m.conversationId)) return undefined;
  const cursors = e.cursors;
  if (cursors !== undefined && (typeof cursors !== 'object' || cursors === null || !Object.values(cursors).every(isString))) return undefined;
  return { type: 'new_message', version: 1, message: m as ChatMessage, cursors: cursors ?? {} };
}
