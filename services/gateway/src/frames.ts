/**
 * The wire protocol (PROTOCOL.md). Server frames are built as strings: a `new_message` frame is
 * serialized once per event and only the per-user tail (cursor) is appended per recipient,
 * because this runs for every socket of every event.
 */
import type { ChatMessage } from '@chat/common';

export const PONG_FRAME = '{"type":"pong"}';
export const RESYNC_REQUIRED_FRAME = '{"type":"resync_required"}';

export function readyFrame(user: { id: string; username: string }): string {
  return JSON.stringify({ type: 'ready', user: { id: user.id, username: user.username } });
}

export function errorFrame(code: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { code, message } });
}

export function syncedFrame(cursor: string | undefined): string {
  return JSON.stringify({ type: 'synced', cursor: cursor ?? null });
}

/** Only the API fields reach clients, whatever else an event might carry. */
function publicMessage(m: ChatMessage): ChatMessage {
  const out: ChatMessage = { id: m.id, from: m.from, to: m.to, text: m.text, createdAt: m.createdAt };
  if (typeof m.clientMsgId === 'string') out.clientMsgId = m.clientMsgId;
  return out;
}

/** `{"type":"new_message","message":{...}` — still open, so a tail can be appended. */
export function messageFrameHead(message: ChatMessage): string {
  return `{"type":"new_message","message":${JSON.stringify(publicMessage(message))}`;
}

export function messageFrame(head: string, cursor: string | undefined, replayed = false): string {
  let frame = head;
  if (cursor !== undefined) frame += `,"cursor":${JSON.stringify(cursor)}`;
  if (replayed) frame += ',"replayed":true';
  return frame + '}';
}

export type ClientFrame = { type: 'ping' } | { type: 'resume'; since: string };

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
  if (typeof type !== 'string') return { ok: false, message: 'frame needs a string "type"' };
  return { ok: false, message: `unknown frame type "${type.slice(0, 40)}"` };
}
