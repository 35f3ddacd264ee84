/**
 * Rules a JSON request body must meet beyond being valid JSON, checked on its text before any
 * route reads a field. Each refused shape is either an injection, a parser differential or
 * unbounded work, and none is ever a field of ours, so refusing it costs no client anything:
 * - a key that starts with `$` or holds a `.`: the shape of a MongoDB operator or path
 *   (`{"$where": …}`, `{"a.b": …}`), and a key no database we run on can store (FerretDB
 *   refuses both; mongo-portability.ts);
 * - a key `__proto__`, `constructor` or `prototype`: what reaches an object's prototype once a
 *   body is merged or copied anywhere;
 * - a key given twice in one object: JSON parsers disagree on which value wins (we keep the
 *   last, another parser in front of us may keep the first), so a reviewer and the server
 *   would see different requests;
 * - nesting deeper than MAX_JSON_DEPTH: our deepest body is two levels; a deeper one only
 *   makes every later walk of the value slower.
 * Plain functions with no imports.
 */

/** Objects and arrays inside each other; `{"members":["a"]}` is 2. */
export const MAX_JSON_DEPTH = 8;

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A key as a message shows it: JSON-quoted (control characters escaped) and shortened. */
function shown(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

function keyViolation(key: string): string | undefined {
  if (key.startsWith('$')) return `body key ${shown(key)} may not start with "$"`;
  if (key.includes('.')) return `body key ${shown(key)} may not contain "."`;
  if (PROTOTYPE_KEYS.has(key)) return `body key ${shown(key)} is not allowed`;
  return undefined;
}

/**
 * Why the body `text` breaks one of the rules above, or undefined. `text` must already have
 * parsed as JSON: the scan trusts its structure and only tracks strings, brackets and commas.
 */
export function jsonBodyRuleViolation(text: string): string | undefined {
  // One entry per open object (the keys seen so far in it, and whether a key comes next) or
  // array (null).
  const open: ({ keys: Set<string>; keyNext: boolean } | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // The closing quote is the next one not escaped, i.e. not after an odd run of backslashes
      // (found with indexOf: a 4,000-character text is one call, not 4,000 steps).
      let end = text.indexOf('"', i + 1);
      for (;;) {
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c /* \ */) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      const top = open.at(-1);
      if (top?.keyNext) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const violation = keyViolation(key) ?? (top.keys.has(key) ? `body key ${shown(key)} is given twice` : undefined);
        if (violation) return violation;
        top.keys.add(key);
        top.keyNext = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      open.push(c === 0x7b ? { keys: new Set(), keyNext: true } : null);
      if (open.length > MAX_JSON_DEPTH) return `body is nested deeper than ${MAX_JSON_DEPTH} levels`;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
    } else if (c === 0x2c /* , */) {
      const top = open.at(-1);
      if (top) top.keyNext = true;
    }
  }
  return undefined;
}
