// The README's error-code table lists exactly the codes of services/common/src/error-codes.ts, with
// their status and meaning; every "<status> `code`" any of the READMEs (and PROTOCOL.md's upgrade
// table) names is one of them, with its status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '../../services/common/src/error-codes.ts';
import { readDoc as read, section, sorted, tableBodies } from './markdown.ts';

const readme = read('README.md');
const row = (status: number, code: string, meaning?: string) => `${status} ${code}${meaning === undefined ? '' : ` | ${meaning}`}`;
const tableRows = (doc: string, heading: string) => tableBodies(section(doc, heading)).split('\n').filter(Boolean);

/** "<4xx or 5xx> `code`" pairs in running text and tables, e.g. "409 `username_taken`". */
const statusCodePairs = (text: string) => [...text.matchAll(/\b([45]\d\d)\b\*{0,2} `([a-z_]+)`/g)].map((m) => [Number(m[1]), m[2]!] as const);
const known = ([status, code]: readonly [number, string]) => Object.hasOwn(ERROR_CODES, code) && ERROR_CODES[code as keyof typeof ERROR_CODES].status === status;
const unknown = (pairs: ReadonlyArray<readonly [number, string]>) => pairs.filter((pair) => !known(pair)).map(([status, code]) => row(status, code));

test("README: the error-code table lists every code with its status and meaning, and nothing else", () => {
  const rows = tableRows(readme, '### Error codes').map((line) => {
    const m = /^\| (\d{3}) \| `([a-z_]+)` \| (.+) \|$/.exec(line);
    assert.ok(m, `not a row of status, code and meaning: ${line}`);
    return row(Number(m[1]), m[2]!, m[3]!);
  });
  assert.deepEqual(sorted(rows), sorted(Object.entries(ERROR_CODES).map(([code, { status, meaning }]) => row(status, code, meaning))));
});

for (const path of ['README.md', 'services/auth/README.md', 'services/chat/README.md']) {
  test(`${path}: every error code it names is in the table, with its status`, () => {
    const pairs = statusCodePairs(read(path));
    assert.ok(pairs.length > 0, 'no "<status> `code`" found: has the format changed?');
    assert.deepEqual(unknown(pairs), []);
  });
}

test("PROTOCOL.md: the upgrade's error codes are in the table, with their status", () => {
  const rows = tableRows(read('services/gateway/PROTOCOL.md'), '## Connecting').map((line) => {
    const m = /^\| (\d{3}) \| `([a-z_]+)` \|/.exec(line);
    assert.ok(m, `not a row of status and code: ${line}`);
    return [Number(m[1]), m[2]!] as const;
  });
  assert.ok(rows.length > 0);
  assert.deepEqual(unknown(rows), []);
});
