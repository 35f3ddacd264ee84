/**
 * What to tell a person when a call fails: the services' error codes in plain words. The page
 * and the terminal client both print these, so a code has one wording everywhere.
 */
import { codePointLength, type ErrorCode } from '@chat/common/contracts';
import { ApiError, UnreachableError } from './api.ts';

export type ErrorKind = 'session_expired' | 'refused' | 'unreachable' | 'unexpected';

export interface DescribedError {
  kind: ErrorKind;
  message: string;
}

const WORDS: Partial<Record<ErrorCode, string>> = {
  invalid_credentials: 'Wrong username or password.',
  username_taken: 'That username is taken. Pick another one.',
  user_not_found: 'There is no user with that name.',
  idempotency_conflict: 'This message was already sent with different content.',
  payload_too_large: 'That is too long to send.',
  // One answer for "no such group" and "not your group": Chat does not reveal which.
  conversation_not_found: 'There is no such conversation, or you are not in it.',
  forbidden: 'Your role in this group does not allow that.',
  unavailable: 'The service is unavailable right now. Try again in a moment.',
};

function waitWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** `context.text`: the text a failed send carried, so a length refusal can say which way it failed. */
export function describeError(err: unknown, context: { text?: string } = {}): DescribedError {
  if (err instanceof UnreachableError) {
    return { kind: 'unreachable', message: `Cannot reach the server (${err.url}). Check that it is running.` };
  }
  if (!(err instanceof ApiError)) {
    return { kind: 'unexpected', message: `Something went wrong: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (err.status === 401 && err.code !== 'invalid_credentials') {
    return { kind: 'session_expired', message: 'Your session has expired. Please log in again.' };
  }
  const wait = err.retryAfterSeconds !== undefined ? ` Try again in ${waitWords(err.retryAfterSeconds)}.` : ' Try again later.';
  // Auth's per-address rates: every name from this address is refused, not just this one.
  if (err.code === 'too_many_requests') return { kind: 'refused', message: `Too many logins or sign-ups from your network address.${wait}` };
  if (err.status === 429 || err.code === 'too_many_attempts') return { kind: 'refused', message: `Too many attempts.${wait}` };
  // A 503 that says when to come back (Auth at its bcrypt capacity) is a busy server, not an outage.
  if (err.status === 503 && err.retryAfterSeconds !== undefined) return { kind: 'refused', message: `The service is busy right now.${wait}` };
  const textRule = /^text must be 1 to (\d+) characters/.exec(err.message);
  if (err.code === 'invalid_request' && textRule && context.text !== undefined && codePointLength(context.text) > Number(textRule[1])) {
    return { kind: 'refused', message: `That message is too long (at most ${Number(textRule[1]).toLocaleString('en')} characters).` };
  }
  const words = WORDS[err.code as ErrorCode];
  if (words) return { kind: 'refused', message: words };
  if (err.status === 503) return { kind: 'refused', message: WORDS.unavailable! };
  // A rule the server named (username pattern, password length, empty text): its own sentence.
  return { kind: 'refused', message: sentence(err.message) };
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return 'The server refused the request.';
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}
