import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executableReplaced } from './util.js';

test('executableReplaced: false while the binary a process runs is on disk, true once it was replaced', { skip: process.platform !== 'linux' && 'reads /proc (Linux only)' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'exe-replaced-'));
  const binary = join(dir, 'sleeper');
  copyFileSync('/bin/sleep', binary);
  const child = spawn(binary, ['30'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    assert.equal(executableReplaced(child.pid), false);
    rmSync(binary); // what a package upgrade does to the old file
    copyFileSync('/bin/sleep', binary);
    assert.equal(executableReplaced(child.pid), true);
    assert.equal(executableReplaced(undefined), false);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
