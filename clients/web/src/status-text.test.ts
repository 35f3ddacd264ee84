import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusText } from './status-text.ts';

test('each connection state in words', () => {
  assert.equal(statusText({ state: 'connecting' }), 'Connecting…');
  assert.equal(statusText({ state: 'catching_up' }), 'Catching up…');
  assert.equal(statusText({ state: 'live' }), 'Live');
  assert.equal(statusText({ state: 'stopped' }), 'Offline');
});

test('waiting counts whole seconds up, and never shows 0 while an attempt is pending', () => {
  const waiting = { state: 'waiting' as const, retryInMs: 2300 };
  assert.equal(statusText(waiting), 'Reconnecting in 3 s');
  assert.equal(statusText(waiting, 1001), 'Reconnecting in 2 s');
  assert.equal(statusText(waiting, 1000), 'Reconnecting in 1 s');
  assert.equal(statusText(waiting, 0), 'Reconnecting in 1 s');
  assert.equal(statusText(waiting, -50), 'Reconnecting in 1 s');
});
