// The README's error-code table lists exactly the codes of services/common/src/error-codes.ts, with
// their status and meaning; every "<status> `code`" any of the READMEs (and PROTOCOL.md's upgrade
// table) names is one of them, with its status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chat/testkit';
import { ERROR_CODES } from '../../services/common/src/error-codes.ts';

const read = (path: string) => readFileSync(join(repoRoot(), path), 'utf8');
const readme = read('README.md');
const row = (status: number, code: string, meaning?: string) => `${status} ${code}${meaning === undefined ? '' : ` | ${meaning}`}`;

/** The body rows of the first markdown table after `heading`. */
function tableAfter(doc: string, heading: string): string[] {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no heading "${heading}"`);
  const lines = doc.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  return lines.slice(first + 2, end < 0 ? undefined : end);
}

/** "<4xx or 5xx> `code`" pairs in running text and tables, e.g. "409 `username_taken`". */
const statusCodePairs = (text: string) => [...text.matchAll(/\b([45]\d\d)\b\*{0,2} `([a-z_]+)`/g)].map((m) => row(Number(m[1]), m[2]!));
const known = (status: number, code: string) => (code in ERROR_CODES ? ERROR_CODES[code as keyof typeof ERROR_CODES].status === status : false);
const sorted = (values: Iterable<string>) => [...values].sort();

test("README: the error-code table lists every code with its status and meaning, and nothing else", () => {
  const rows = tableAfter(readme, '### Error codes').map((line) => {
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
    assert.deepEqual(pairs.filter((pair) => !known(Number(pair.slice(0, 3)), pair.slice(4))), []);
  });
}

test("PROTOCOL.md: the upgrade's error codes are in the table, with their status", () => {
  const rows = tableAfter(read('services/gateway/PROTOCOL.md'), '## Connecting').map((line) => {
    const m = /^\| (\d{3}) \| `([a-z_]+)` \|/.exec(line);
    assert.ok(m, `not a row of status and code: ${line}`);
    return [Number(m[1]), m[2]!] as const;
  });
  assert.ok(rows.length > 0);
  assert.deepEqual(rows.filter(([status, code]) => !known(status, code)), []);
});
