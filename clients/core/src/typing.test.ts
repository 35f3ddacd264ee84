import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypingSender, typingText, TypingTracker } from './typing.ts';

const bob = { id: 'u-bob', username: 'bob' };
const carol = { id: 'u-carol', username: 'carol' };

test('an indicator lasts 5 s after the last frame per (user, conversation), so frames 3 s apart keep it up', () => {
  let now = 0;
  const t = new TypingTracker({ now: () => now });
  assert.equal(t.add('dm:1', bob), true, 'starts showing');
  now = 3_000;
  assert.equal(t.add('dm:1', bob), false, 'already shown');
  now = 7_999;
  assert.deepEqual(t.typing('dm:1'), [bob]);
  assert.equal(t.nextChange(), 8_000);
  now = 8_000;
  assert.deepEqual(t.typing('dm:1'), []);
  assert.equal(t.nextChange(), undefined);
  assert.deepEqual(t.conversations(), []);
  assert.equal(t.add('dm:1', bob), true, 'shows again after it ran out');
});

test('per conversation and per user; a message from the typer ends their indicator at once', () => {
  let now = 0;
  const t = new TypingTracker({ now: () => now });
  t.add('g:1', bob);
  now = 1_000;
  t.add('g:1', carol);
  t.add('dm:1', bob);
  assert.deepEqual(t.typing('g:1'), [bob, carol]);
  assert.deepEqual(t.conversations().sort(), ['dm:1', 'g:1']);
  assert.equal(t.clear('g:1', { username: 'BOB' }), true, 'by name, any letter case');
  assert.deepEqual(t.typing('g:1'), [carol]);
  assert.deepEqual(t.typing('dm:1'), [bob], 'the other conversation keeps its own');
  assert.equal(t.clear('g:1', { username: 'dave' }), false);
  now = 5_000;
  assert.deepEqual(t.typing('g:1'), [carol], "carol's frame came later");
  assert.equal(t.nextChange(), 6_000);
  t.reset();
  assert.deepEqual(t.conversations(), []);
});

test('the words', () => {
  assert.equal(typingText([]), '');
  assert.equal(typingText([bob]), 'bob is typing…');
  assert.equal(typingText([bob, carol]), 'bob and carol are typing…');
  assert.equal(typingText([bob, carol, { username: 'dave' }]), '3 people are typing…');
});

test('the sender sends at most one frame per 3 s per conversation while the user types', () => {
  let now = 0;
  const sent: [number, string][] = [];
  const s = new TypingSender((id) => (sent.push([now, id]), true), { now: () => now });
  // 20 keystrokes a second for 7 s in one conversation, one keystroke in another.
  for (; now < 7_000; now += 50) s.typed('dm:1');
  s.typed('g:2');
  assert.deepEqual(sent, [[0, 'dm:1'], [3_000, 'dm:1'], [6_000, 'dm:1'], [7_000, 'g:2']]);
});

test('a frame that could not go out is tried again at the next keystroke; sending a message re-arms it', () => {
  let now = 0;
  let up = false;
  const sent: number[] = [];
  const s = new TypingSender(() => (up ? (sent.push(now), true) : false), { now: () => now });
  assert.equal(s.typed('dm:1'), false);
  now = 100;
  up = true;
  assert.equal(s.typed('dm:1'), true);
  now = 200;
  assert.equal(s.typed('dm:1'), false);
  s.sent('dm:1');
  assert.equal(s.typed('dm:1'), true);
  assert.deepEqual(sent, [100, 200]);
});
