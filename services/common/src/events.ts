/** A stored 1:1 message as the API and events show it. */
export interface ChatMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  createdAt: string;
  clientMsgId?: string;
}

/**
 * The event published to `chat.events` for every stored message. `cursors` maps each
 * participant's user id to the sync cursor that ends at this message in their timeline
 * (one entry for a message to oneself), so a gateway can stamp frames for catch-up.
 */
export interface NewMessageEvent {
  type: 'new_message';
  version: 1;
  message: ChatMessage;
  cursors: Record<string, string>;
}

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
  if (!m || !isString(m.id) || !isString(m.from) || !isString(m.to) || !isString(m.text) || !isString(m.createdAt)) return undefined;
  const cursors = e.cursors;
  if (cursors !== undefined && (typeof cursors !== 'object' || cursors === null || !Object.values(cursors).every(isString))) return undefined;
  return { type: 'new_message', version: 1, message: m as ChatMessage, cursors: cursors ?? {} };
}
