// The README's configuration tables list every variable each service reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chat/testkit';
import { authConfigSpec } from '../../services/auth/src/config.ts';
import { chatConfigSpec } from '../../services/chat/src/config.ts';
import { gatewayConfigSpec } from '../../services/gateway/src/config.ts';

const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
const TEST_ONLY = new Set(['CHAT_TEST_CRASH_POINT']);

for (const [service, spec] of Object.entries({ auth: authConfigSpec, chat: chatConfigSpec, gateway: gatewayConfigSpec })) {
  test(`every ${service} variable is documented in the README`, () => {
    const missing = Object.keys(spec).filter((v) => !TEST_ONLY.has(v) && !section.includes(`\`${v}\``));
    assert.deepEqual(missing, [], `undocumented: ${missing.join(', ')}`);
  });
}
