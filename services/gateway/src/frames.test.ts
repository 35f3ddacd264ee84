import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLIENT_FRAME_TYPES } from '@chat/common/contracts';
import { errorFrame, messageFrame, messageFrameHead, parseClientFrame, presenceFrame, readFrame, readyFrame, syncedFrame, typingFrame } from './frames.js';

const buf = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;
const message = { id: 'm1', from: 'alice', to: 'Bob', text: 'hi "there"\n', createdAt: '2025-01-01T00:00:00.000Z' };

describe('server frames', () => {
  it('new_message frames are valid JSON with the per-user cursor and replay flag', () => {
    const head = messageFrameHead({ ...message, extra: 'not public' } as never);
    assert.deepEqual(JSON.parse(messageFrame(head, undefined)), { type: 'new_message', message });
    assert.deepEqual(JSON.parse(messageFrame(head, 'abc_-')), { type: 'new_message', message, cursor: 'abc_-' });
    assert.deepEqual(JSON.parse(messageFrame(head, 'c', true)), { type: 'new_message', message, cursor: 'c', replayed: true });
  });

  it('keeps clientMsgId, which the sender\'s other devices use to match optimistic sends', () => {
    const head = messageFrameHead({ ...message, clientMsgId: 'k1' });
    assert.equal(JSON.parse(messageFrame(head, undefined)).message.clientMsgId, 'k1');
  });

  it('ready, error and synced frames', () => {
    assert.deepEqual(JSON.parse(readyFrame({ id: 'u1', username: 'alice', exp: 1 } as never)), { type: 'ready', user: { id: 'u1', username: 'alice' } });
    assert.deepEqual(JSON.parse(errorFrame('bad_frame', 'x')), { type: 'error', error: { code: 'bad_frame', message: 'x' } });
    assert.deepEqual(JSON.parse(syncedFrame('c1')), { type: 'synced', cursor: 'c1' });
  });

  it('typing, read and presence frames carry only the protocol\'s fields', () => {
    const user = { id: 'u1', username: 'alice', extra: 1 } as never;
    assert.deepEqual(JSON.parse(typingFrame('g:1', user)), { type: 'typing', conversationId: 'g:1', user: { id: 'u1', username: 'alice' } });
    assert.deepEqual(JSON.parse(readFrame({ conversationId: 'g:1', user, readUpTo: 'm1', at: 'T', to: ['x'] } as never)), {
      type: 'read',
      conversationId: 'g:1',
      user: { id: 'u1', username: 'alice' },
      readUpTo: 'm1',
      at: 'T',
    });
    assert.deepEqual(JSON.parse(presenceFrame(user, 'online', 5)), { type: 'presence', user: { id: 'u1', username: 'alice' }, status: 'online' });
    assert.deepEqual(JSON.parse(presenceFrame(user, 'offline', 0)), { type: 'presence', user: { id: 'u1', username: 'alice' }, status: 'offline', lastSeen: '1970-01-01T00:00:00.000Z' });
    assert.deepEqual(JSON.parse(presenceFrame(user, 'offline', undefined)), { type: 'presence', user: { id: 'u1', username: 'alice' }, status: 'offline' });
  });
});

describe('parseClientFrame', () => {
  it('accepts ping and resume', () => {
    assert.deepEqual(parseClientFrame(buf('{"type":"ping"}'), false), { ok: true, frame: { type: 'ping' } });
    assert.deepEqual(parseClientFrame(buf('{"type":"resume","since":"abc"}'), false), { ok: true, frame: { type: 'resume', since: 'abc' } });
  });

  it('parses every client frame type of the protocol table', () => {
    for (const type of CLIENT_FRAME_TYPES) {
      const parsed = parseClientFrame(buf(JSON.stringify({ type, since: 'abc', conversationId: 'g:1' })), false);
      assert.equal(parsed.ok && parsed.frame.type, type);
    }
  });

  for (const [name, raw, binary] of [
    ['malformed JSON', '{"type":', false],
    ['a JSON array', '[1]', false],
    ['a JSON string', '"ping"', false],
    ['null', 'null', false],
    ['no type', '{}', false],
    ['a non-string type', '{"type":{"$ne":1}}', false],
    ['an unknown type', '{"type":"send"}', false],
    ['resume without since', '{"type":"resume"}', false],
    ['resume with a non-string since', '{"type":"resume","since":{"$gt":""}}', false],
    ['typing without conversationId', '{"type":"typing"}', false],
    ['typing with a non-string conversationId', '{"type":"typing","conversationId":{"$ne":null}}', false],
    ['a binary frame', '{"type":"ping"}', true],
    ['invalid UTF-8', '\u0000', false],
  ] as const) {
    it(`rejects ${name}`, () => {
      const data = name === 'invalid UTF-8' ? new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]).buffer : buf(raw);
      const parsed = parseClientFrame(data as ArrayBuffer, binary);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.message.length > 0);
    });
  }
});
