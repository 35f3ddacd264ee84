import { codePointLength, decodeCursor, hasUnpairedSurrogate, invalidRequest, unstorableTextReason } from '@chat/common/contracts';

export const TEXT_MAX_CHARS = 4000;
export const CLIENT_MSG_ID_MAX_CHARS = 64;
/** Longer than any registered name can be; anything longer is refused before a lookup. */
export const USERNAME_MAX_CHARS = 64;
export const HISTORY_LIMIT = { min: 1, max: 100, default: 50 } as const;
export const SYNC_LIMIT = { min: 1, max: 500, default: 100 } as const;

const WHITESPACE_ONLY = /^\s*$/u;

export interface SendRequest {
  to: string;
  text: string;
  clientMsgId?: string;
}

/**
 * A send body. Every field's type is checked before anything reaches a query or a URL, so an
 * operator object such as `{"$ne": null}` is a 400, never a filter. Unknown fields are ignored;
 * in particular a `from` field cannot choose the sender (the token does).
 */
export function parseSendRequest(body: Record<string, unknown>): SendRequest {
  const { to, text, clientMsgId } = body;
  if (to === undefined) throw invalidRequest('to is required');
  if (typeof to !== 'string') throw invalidRequest('to must be a string');
  if (to.length === 0 || to.length > USERNAME_MAX_CHARS) throw invalidRequest(`to must be 1 to ${USERNAME_MAX_CHARS} characters long`);
  if (hasUnpairedSurrogate(to)) throw invalidRequest('to must be valid Unicode text');

  if (text === undefined) throw invalidRequest('text is required');
  if (typeof text !== 'string') throw invalidRequest('text must be a string');
  const length = codePointLength(text);
  if (length < 1 || length > TEXT_MAX_CHARS) throw invalidRequest(`text must be 1 to ${TEXT_MAX_CHARS} characters long`);
  if (WHITESPACE_ONLY.test(text)) throw invalidRequest('text must not be whitespace only');
  const textProblem = unstorableTextReason(text);
  if (textProblem) throw invalidRequest(`text cannot be stored as sent: ${textProblem}`);

  const request: SendRequest = { to, text };
  if (clientMsgId !== undefined) {
    if (typeof clientMsgId !== 'string') throw invalidRequest('clientMsgId must be a string');
    const idLength = codePointLength(clientMsgId);
    if (idLength < 1 || idLength > CLIENT_MSG_ID_MAX_CHARS) {
      throw invalidRequest(`clientMsgId must be 1 to ${CLIENT_MSG_ID_MAX_CHARS} characters long`);
    }
    const idProblem = unstorableTextReason(clientMsgId);
    if (idProblem) throw invalidRequest(`clientMsgId cannot be stored as sent: ${idProblem}`);
    request.clientMsgId = clientMsgId;
  }
  return request;
}

type QueryValue = string | string[] | undefined;

/** A query parameter given at most once; `?a=1&a=2` is ambiguous and refused. */
function single(name: string, value: QueryValue): string | undefined {
  if (Array.isArray(value)) throw invalidRequest(`${name} must be given once`);
  return value;
}

export function parseLimit(value: QueryValue, range: { min: number; max: number; default: number }, name = 'limit'): number {
  const raw = single(name, value);
  if (raw === undefined) return range.default;
  if (!/^\d{1,6}$/.test(raw)) throw invalidRequest(`${name} must be an integer from ${range.min} to ${range.max}`);
  const n = Number(raw);
  if (n < range.min || n > range.max) throw invalidRequest(`${name} must be an integer from ${range.min} to ${range.max}`);
  return n;
}

/**
 * A cursor parameter → the sequence number in the caller's timeline it points at, or undefined
 * when absent. A cursor that is not ours, or that belongs to another user, is a 400: silently
 * reinterpreting it could skip or repeat messages.
 */
export function parseCursorParam(value: QueryValue, callerId: string, name: string): number | undefined {
  const raw = single(name, value);
  if (raw === undefined) return undefined;
  const cursor = decodeCursor(raw);
  if (!cursor) throw invalidRequest(`${name} is not a valid cursor`);
  if (cursor.userId !== callerId) throw invalidRequest(`${name} is a cursor of another user`);
  return cursor.seq;
}

/** The `with` parameter of history: a username to resolve. */
export function parseUsernameParam(value: QueryValue, name: string): string {
  const raw = single(name, value);
  if (raw === undefined || raw.length === 0) throw invalidRequest(`${name} is required`);
  if (raw.length > USERNAME_MAX_CHARS) throw invalidRequest(`${name} must be 1 to ${USERNAME_MAX_CHARS} characters long`);
  if (hasUnpairedSurrogate(raw)) throw invalidRequest(`${name} must be valid Unicode text`);
  return raw;
}
