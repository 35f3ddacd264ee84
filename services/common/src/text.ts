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

/**
 * Unicode's White_Space property (UAX #44), not JavaScript's `\s`: `\s` leaves out U+0085 (NEXT
 * LINE) and counts U+FEFF, which Unicode does not. Default_Ignorable_Code_Point covers what
 * renders as nothing at all: zero-width spaces and joiners, bidi marks and overrides, the BOM,
 * soft hyphens, variation selectors, the Hangul fillers.
 */
const BLANK = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]*$/u;
const WHITE_SPACE_AT_ENDS = /^\p{White_Space}+|\p{White_Space}+$/gu;

/**
 * True when the text would show as nothing: every character is White_Space or
 * Default_Ignorable_Code_Point (or there are none). Such a message or name is refused.
 */
export function isBlank(value: string): boolean {
  return BLANK.test(value);
}

/** The text without White_Space (Unicode's, as isBlank) at either end. */
export function trimWhiteSpace(value: string): string {
  return value.replace(WHITE_SPACE_AT_ENDS, '');
}
