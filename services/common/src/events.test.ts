import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNewMessageEvent } from './events.js';

const message = { id: 'm1', from: 'Alice', to: 'bob', text: 'hi', createdAt: '2026-01-01T00:00:00.000Z' };

test('a well-formed event parses from a buffer, a string or an object', () => {
  const e = { type: 'new_message', version: 1, message, cursors: { u1: 'c' } };
  for (const input of [Buffer.from(JSON.stringify(e)), JSON.stringify(e), e]) {
    assert.deepEqual(parseNewMessageEvent(input), e);
  }
});

test('malformed events are rejected, not thrown', () => {
  const bad = ['not json', '{}', { type: 'new_message', version: 2, message }, { type: 'new_message', version: 1, message: { ...message, text: 5 } }, { type: 'new_message', version: 1, message, cursors: { u: 1 } }, null, 7];
  for (const input of bad) assert.equal(parseNewMessageEvent(input), undefined, JSON.stringify(input));
});
