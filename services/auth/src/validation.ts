import { codePointLength, hasUnpairedSurrogate, invalidRequest, usernameRuleViolation } from '@chat/common/contracts';

// The username rule and its key are @chat/common's (username.ts), the same in every service and client.
export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Reads a field that must be a string. Checked before anything reaches a query, so an
 * operator object such as `{"$ne": null}` is a 400, never a filter.
 */
function stringField(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined) throw invalidRequest(`${field} is required`);
  if (typeof value !== 'string') throw invalidRequest(`${field} must be a string`);
  return value;
}

export function passwordRuleViolation(password: string): string | undefined {
  const length = codePointLength(password);
  if (length < PASSWORD_MIN_CHARS || length > PASSWORD_MAX_CHARS) {
    return `password must be ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters long`;
  }
  if (hasUnpairedSurrogate(password)) return 'password must be valid Unicode text (it contains an unpaired surrogate)';
  return undefined;
}

/** A register body: both fields present, strings, and within the rules. */
export function parseRegistration(body: Record<string, unknown>): Credentials {
  const username = stringField(body, 'username');
  const password = stringField(body, 'password');
  const violation = usernameRuleViolation(username) ?? passwordRuleViolation(password);
  if (violation) throw invalidRequest(violation);
  return { username, password };
}

/**
 * A login body: both fields present and strings. The rules are not checked here: a name or
 * password outside them simply cannot match, and answering it differently would tell an
 * attacker more than "invalid credentials".
 */
export function parseLogin(body: Record<string, unknown>): Credentials {
  return { username: stringField(body, 'username'), password: stringField(body, 'password') };
}
