import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '@chat/common/contracts';
import { UPGRADE_REJECTION_REASONS, UPGRADE_REJECTIONS } from './upgrade-rejections.ts';

test('each refusal answers the status its error code is documented with', () => {
  for (const [reason, { status, code }] of Object.entries(UPGRADE_REJECTIONS)) {
    assert.equal(ERROR_CODES[code].status, status, `${reason}: ${code}`);
  }
});

test('the gateway README lists exactly the rejection reasons the metric can carry', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const m = /gateway_connections_rejected_total\{reason=([a-z_|]+)\}/.exec(readme);
  assert.ok(m, 'the README names gateway_connections_rejected_total with its reasons');
  assert.deepEqual(m[1]!.split('|').sort(), [...UPGRADE_REJECTION_REASONS].sort());
});
