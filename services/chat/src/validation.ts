import { codePointLength, decodeCursor, invalidRequest, isBlank, trimWhiteSpace, unstorableTextReason, usernameKey, usernameRuleViolation } from '@chat/common/contracts';

export const TEXT_MAX_CHARS = 4000;
export const CLIENT_MSG_ID_MAX_CHARS = 64;
export const HISTORY_LIMIT = { min: 1, max: 100, default: 50 } as const;
export const SYNC_LIMIT = { min: 1, max: 500, default: 100 } as const;

export const GROUP_NAME_MAX_CHARS = 100;
export const CONVERSATIONS_LIMIT = { min: 1, max: 100, default: 50 } as const;

/** A send: to a user (`to`) or into a conversation (`conversationId`), exactly one of them. */
export interface SendRequest {
  to?: string;
  conversationId?: string;
  text: string;
  clientMsgId?: string;
}

/**
 * A send body. Every field's type is checked before anything reaches a query or a URL, so an
 * operator object such as `{"$ne": null}` is a 400, never a filter. Unknown fields are ignored;
 * in particular a `from` field cannot choose the sender (the token does).
 */
export function parseSendRequest(body: Record<string, unknown>): SendRequest {
  const { to, conversationId, text, clientMsgId } = body;
  if ((to === undefined) === (conversationId === undefined)) throw invalidRequest('exactly one of to and conversationId is required');
  if (to !== undefined) parseUsername(to, 'to');
  if (conversationId !== undefined && (typeof conversationId !== 'string' || conversationId.length === 0 || conversationId.length > 100)) {
    throw invalidRequest('conversationId must be a string of 1 to 100 characters');
  }

  if (text === undefined) throw invalidRequest('text is required');
  if (typeof text !== 'string') throw invalidRequest('text must be a string');
  const length = codePointLength(text);
  if (length < 1 || length > TEXT_MAX_CHARS) throw invalidRequest(`text must be 1 to ${TEXT_MAX_CHARS} characters long`);
  if (isBlank(text)) throw invalidRequest('text must not be blank: whitespace only, or characters that show nothing (zero-width, bidi controls)');
  const textProblem = unstorableTextReason(text);
  if (textProblem) throw invalidRequest(`text cannot be stored as sent: ${textProblem}`);

  const request: SendRequest = to !== undefined ? { to: to as string, text } : { conversationId: conversationId as string, text };
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

/** The `conversation` parameter of history: the raw id (parsed by the caller), given at most once. */
export function parseConversationParam(value: QueryValue, name: string): string | undefined {
  return single(name, value);
}

/** The `with` parameter of history: a username to resolve. */
export function parseUsernameParam(value: QueryValue, name: string): string {
  const raw = single(name, value);
  if (raw === undefined || raw.length === 0) throw invalidRequest(`${name} is required`);
  return parseUsername(raw, name);
}

/**
 * A username in a body (a recipient, a member to add), a path or a query: the one username rule
 * of @chat/common (username.ts), which Auth registers by, or a 400 naming it. Nothing is folded
 * here (`toLowerCase()` once sent "\u212Aelvin", with a Kelvin sign, to the user kelvin), so no
 * spelling reaches a lookup that Auth would not take for the same name.
 */
function parseUsername(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidRequest(`${name} must be a string`);
  const violation = usernameRuleViolation(value, name);
  if (violation) throw invalidRequest(violation);
  return value;
}

/**
 * A group's name: 1 to 100 characters after trimming Unicode White_Space (U+0085 and U+3000
 * too, unlike String#trim), stored trimmed; not blank (text.ts), like a message text.
 */
export function parseGroupName(value: unknown): string {
  if (value === undefined) throw invalidRequest('name is required');
  if (typeof value !== 'string') throw invalidRequest('name must be a string');
  const name = trimWhiteSpace(value);
  const length = codePointLength(name);
  if (length < 1 || length > GROUP_NAME_MAX_CHARS) throw invalidRequest(`name must be 1 to ${GROUP_NAME_MAX_CHARS} characters long after trimming`);
  if (isBlank(name)) throw invalidRequest('name must not be blank: characters that show nothing (zero-width, bidi controls) only');
  const problem = unstorableTextReason(name);
  if (problem) throw invalidRequest(`name cannot be stored as sent: ${problem}`);
  return name;
}

/**
 * A `members` list of usernames, without duplicates (ASCII letter case ignored, as usernames are
 * unique that way) and without the caller; empty after that is a 400. More than `maxOthers`
 * distinct names is a 400 before any of them is looked up.
 */
export function parseMemberNames(value: unknown, caller: string, maxOthers: number): string[] {
  if (value === undefined) throw invalidRequest('members is required');
  if (!Array.isArray(value)) throw invalidRequest('members must be an array of usernames');
  const names = new Map<string, string>();
  value.forEach((entry, i) => {
    const name = parseUsername(entry, `members[${i}]`);
    const key = usernameKey(name);
    if (key !== usernameKey(caller) && !names.has(key)) names.set(key, name);
  });
  if (names.size === 0) throw invalidRequest('members must name at least one user other than the caller');
  if (names.size > maxOthers) throw invalidRequest(`a group has at most ${maxOthers + 1} members, the caller included`);
  return [...names.values()];
}

/** Most names one `GET /presence` may ask about. */
export const PRESENCE_MAX_USERS = 100;

/** `users=a,b,c`: 1 to PRESENCE_MAX_USERS usernames, in the order given (repeats answered once each time). */
export function parseUsernameList(value: QueryValue, name: string): string[] {
  const raw = single(name, value);
  if (raw === undefined || raw.length === 0) throw invalidRequest(`${name} is required: comma-separated usernames`);
  const names = raw.split(',');
  if (names.length > PRESENCE_MAX_USERS) throw invalidRequest(`${name} names at most ${PRESENCE_MAX_USERS} users`);
  return names.map((n, i) => parseUsername(n, `${name}[${i}]`));
}

const MESSAGE_ID = /^[0-9a-f]{24}$/i;

/**
 * A message id in a body (`POST /conversations/:id/read`): 24 hexadecimal digits, as the API
 * shows ids (letter case ignored, answered in lower case). Anything else, an operator object
 * included, is a 400 before it reaches a query.
 */
export function parseMessageId(value: unknown, name = 'messageId'): string {
  if (value === undefined) throw invalidRequest(`${name} is required`);
  if (typeof value !== 'string' || !MESSAGE_ID.test(value)) throw invalidRequest(`${name} must be a message id (24 hexadecimal digits)`);
  return value.toLowerCase();
}

/** A path's `:username`. */
export function parseUsernamePath(value: unknown): string {
  return parseUsername(value, 'username');
}
