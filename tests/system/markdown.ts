// Reading the repository's markdown for the doc tests: a file, one section of it, its table rows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chat/testkit';

/** A file of the repository, by its path from the root. */
export const readDoc = (path: string) => readFileSync(join(repoRoot(), path), 'utf8');

/** From the heading line to the next heading of the same or a higher level. */
export function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `no heading "${heading}"`);
  const level = heading.indexOf(' ');
  const next = doc.slice(start + heading.length + 2).search(new RegExp(`\\n#{1,${level}} `));
  return next < 0 ? doc.slice(start) : doc.slice(start, start + heading.length + 2 + next);
}

/** The body rows of the markdown tables in `text` (header and separator rows left out). */
export const tableBodies = (text: string) => text.split('\n').filter((line, i, lines) => line.startsWith('|') && !line.startsWith('|--') && !lines[i + 1]?.startsWith('|--')).join('\n');

export const sorted = (values: Iterable<string>) => [...values].sort();
