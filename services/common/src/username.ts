/**
 * One canonical username, the same in Auth, Chat, the user directory and the clients: a
 * username is 3 to 32 of the ASCII characters A-Z, a-z, 0-9, '_', '.' and '-', and two spellings
 * name the same user exactly when they are equal after ASCII lowercasing (`usernameKey`).
 *
 * Why refuse rather than normalise: Unicode case mapping and compatibility normalisation fold
 * look-alikes onto ASCII. U+212A KELVIN SIGN lowercases to "k", fullwidth "ｋ" becomes "k" under
 * NFKC, U+0130 (Turkish dotted capital I) lowercases to "i" plus a combining dot, and "e" with a
 * combining acute composes to "é". A service that folds with `toLowerCase()` or NFKC and one that
 * does not then disagree about who a name is (Chat once sent "\u212Aelvin" to kelvin while Auth
 * answered 404 for it). Every character the rule allows is its own NFKC form and has exactly one
 * case partner inside the set, so a valid name needs no normalisation at all, and anything else
 * is refused with a message that names the rule, never silently mapped onto someone's name.
 *
 * Plain functions with no imports (the web page bundles them through contracts).
 */

export const USERNAME_MIN_CHARS = 3;
export const USERNAME_MAX_CHARS = 32;
const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const ASCII_UPPER = /[A-Z]/g;

/** True when `value` is a username under the rule: the only names that can exist. */
export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME.test(value);
}

/**
 * Why `value` is not a username, in words naming `field`, or undefined when it is one. The
 * length is counted in code points, so a message never calls an emoji two characters.
 */
export function usernameRuleViolation(value: string, field = 'username'): string | undefined {
  if (USERNAME.test(value)) return undefined;
  let length = 0;
  for (const _ of value) length++;
  if (length < USERNAME_MIN_CHARS || length > USERNAME_MAX_CHARS) return `${field} must be ${USERNAME_MIN_CHARS} to ${USERNAME_MAX_CHARS} characters long`;
  return `${field} may contain only the ASCII letters A-Z and a-z, digits, '_', '.' and '-' (look-alike letters such as the Kelvin sign or fullwidth forms are refused, not folded)`;
}

/**
 * The key a username is unique on and compared by: ASCII lowercase. Only A-Z change, so the key
 * of a string that is not a username never equals the key of one (the Kelvin sign stays itself);
 * callers check `isUsername` first wherever a name comes in.
 */
export function usernameKey(username: string): string {
  return username.replace(ASCII_UPPER, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Whether two usernames name the same user. */
export function sameUsername(a: string, b: string): boolean {
  return usernameKey(a) === usernameKey(b);
}
