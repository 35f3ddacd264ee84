// ARCHITECTURE.md follows flows through the files by name; a rename that forgets it would
// leave a newcomer reading about files that no longer exist. Every repository path it names
// (in backticks, starting at a top-level folder of ours, without a <placeholder>) must exist.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@chat/testkit';
import { readDoc } from './markdown.ts';

const ROOTS = ['services/', 'clients/', 'tools/', 'tests/', 'k8s/', 'charts/'];

test('every path ARCHITECTURE.md names exists', () => {
  const doc = readDoc('ARCHITECTURE.md');
  const paths = [...new Set([...doc.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!))].filter((p) => ROOTS.some((r) => p.startsWith(r)) && !p.includes('<'));
  assert.ok(paths.length >= 30, `found only ${paths.length} paths: the extraction is broken`);
  const missing = paths.filter((p) => !existsSync(join(repoRoot(), p)));
  assert.deepEqual(missing, [], `ARCHITECTURE.md names paths that do not exist: ${missing.join(', ')}`);
});

test('ARCHITECTURE.md covers the three flows', () => {
  const doc = readDoc('ARCHITECTURE.md');
  for (const heading of ['## Sending a message', '## A live push', '## A reconnecting client', '## Where does a behaviour live?']) {
    assert.ok(doc.includes(`\n${heading}\n`), `missing section ${heading}`);
  }
});
