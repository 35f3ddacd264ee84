/**
 * `--json` output is one JSON value per line, and it still reaches a terminal when nobody pipes
 * it. JSON.stringify escapes only C0 controls, so message text could carry a C1 control (0x9b is
 * a one-byte CSI), DEL or a bidi override through to the terminal as is. Those are written as
 * `\u` escapes here: the same JSON value, nothing a terminal obeys. (The line separators U+2028
 * and U+2029 too, for readers that split on them.)
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
