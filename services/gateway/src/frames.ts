/**
 * The wire protocol (PROTOCOL.md). Server frames are built as strings: a `new_message` frame is
 * serialized once per event and only the per-user tail (cursor) is appended per recipient,
 * because this runs for every socket of every event. Frame types and error codes come from the
 * protocol's tables in @chat/common (frame-types.ts).
 */
import { publicMessage, type ChatMessage, type ClientFrameType, type FrameErrorCode, type ServerFrameType, type UserRef } from '@chat/common/contracts';

function serverFrame(type: ServerFrameType, fields: object = {}): string {
  return JSON.stringify({ type, ...fields });
}

export const PONG_FRAME = serverFrame('pong');
export const RESYNC_REQUIRED_FRAME = serverFrame('resync_required');

export function readyFrame(user: { id: string; username: string }): string {
  return serverFrame('ready', { user: { id: user.id, username: user.username } });
}

export function errorFrame(code: FrameErrorCode, message: string): string {
  return serverFrame('error', { error: { code, message } });
}

export function syncedFrame(cursor: string | undefined): string {
  return serverFrame('synced', { cursor: cursor ?? null });
}

export function typingFrame(conversationId: string, user: UserRef): string {
  return serverFrame('typing', { conversationId, user: { id: user.id, username: user.username } });
}

export function readFrame(signal: { conversationId: string; user: UserRef; readUpTo: string; at: string }): string {
  return serverFrame('read', { conversationId: signal.conversationId, user: { id: signal.user.id, username: signal.user.username }, readUpTo: signal.readUpTo, at: signal.at });
}

export function presenceFrame(user: UserRef, status: 'online' | 'offline', lastSeen: number | undefined): string {
  const fields: Record<string, unknown> = { user: { id: user.id, username: user.username }, status };
  if (status === 'offline' && lastSeen !== undefined) fields.lastSeen = new Date(lastSeen).toISOString();
  return serverFrame('presence', fields);
}

/** `{"type":"new_message"`: the frame's opening, serialized once. */
const NEW_MESSAGE_OPENING = serverFrame('new_message').slice(0, -1);

/** `{"type":"new_message","message":{...}` — still open, so a tail can be appended. */
// Only the API fields reach clients, whatever else an event might carry.
export function messageFrameHead(message: ChatMessage): string {
  return `${NEW_MESSAGE_OPENING},"message":${JSON.stringify(publicMessage(message))}`;
}

export function messageFrame(head: string, cursor: string | undefined, replayed = false): string {
  let frame = head;
  if (cursor !== undefined) frame += `,"cursor":${JSON.stringify(cursor)}`;
  if (replayed) frame += ',"replayed":true';
  return frame + '}';
}

/**
 * A parsed client frame, one member per type of CLIENT_FRAME_TYPES: a type the table lacks would
 * `Extract` to `never` and stop compiling here; frames.test.ts parses every type of the table.
 */
export type ClientFrame =
  | { type: Extract<ClientFrameType, 'ping'> }
  | { type: Extract<ClientFrameType, 'resume'>; since: string }
  | { type: Extract<ClientFrameType, 'typing'>; conversationId: string };

export type ParsedClientFrame = { ok: true; frame: ClientFrame } | { ok: false; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses a client frame. The ArrayBuffer is only valid during the uWS callback: read it now. */
export function parseClientFrame(data: ArrayBuffer, isBinary: boolean): ParsedClientFrame {
  if (isBinary) return { ok: false, message: 'binary frames are not supported; send JSON text' };
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: 'frame must be a JSON object' };
  const type = (value as { type?: unknown }).type;
  if (type === 'ping') return { ok: true, frame: { type: 'ping' } };
  if (type === 'resume') {
    const since = (value as { since?: unknown }).since;
    if (typeof since !== 'string' || since.length === 0) return { ok: false, message: 'resume needs "since": a cursor string' };
    return { ok: true, frame: { type: 'resume', since } };
  }
  if (type === 'typing') {
    const conversationId = (value as { conversationId?: unknown }).conversationId;
    if (typeof conversationId !== 'string' || conversationId.length === 0 || conversationId.length > 100) {
      return { ok: false, message: 'typing needs "conversationId": a conversation id string' };
    }
    return { ok: true, frame: { type: 'typing', conversationId } };
  }
  if (typeof type !== 'string') return { ok: false, message: 'frame needs a string "type"' };
  return { ok: false, message: `unknown frame type "${type.slice(0, 40)}"` };
}
