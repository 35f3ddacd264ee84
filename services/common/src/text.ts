/**
 * Checks on user-supplied text that every service applies the same way. Plain functions with no
 * imports.
 */

// In a `u` regex a well-formed surrogate pair is one code point, so only unpaired halves match.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Length in Unicode code points, so an emoji counts as one character, not two. */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/**
 * True when the string holds half of a surrogate pair on its own. Such a string is not valid
 * Unicode: it cannot be stored exactly (BSON is UTF-8, which encodes it as U+FFFD) nor
 * URL-encoded, so the services refuse it.
 */
export function hasUnpairedSurrogate(value: string): boolean {
  return UNPAIRED_SURROGATE.test(value);
}

/**
 * Why a string that is to be stored cannot be stored exactly, or undefined: half of a surrogate
 * pair (not valid Unicode), or U+0000, which not every database we run on can hold (rule 6 of
 * the data layer's mongo-portability.ts); a NUL in a chat text is never something a person typed.
 */
export function unstorableTextReason(value: string): string | undefined {
  if (UNPAIRED_SURROGATE.test(value)) return 'it contains an unpaired surrogate';
  if (value.includes('\u0000')) return 'it contains U+0000 (NUL)';
  return undefined;
}
