import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dueEvents, newMessageFrame, parsePushCommand, pushLoop, readyFrame, tokenOf, tokenUser } from './raw-push-plan.js';

test('the open-loop schedule: one event at 0, then one every 1/rate s, cumulative, capped', () => {
  assert.equal(dueEvents(1_000, 0), 1);
  assert.equal(dueEvents(1_000, 0.999), 1);
  assert.equal(dueEvents(1_000, 1), 2);
  assert.equal(dueEvents(5_000, 1_000), 5_001);
  assert.equal(dueEvents(10_000, 2), 21);
  assert.equal(dueEvents(10_000, 1_000, 7), 7);
  assert.equal(dueEvents(0, 1_000), 0);
  assert.equal(dueEvents(1_000, -1), 0);
});

test("a frame has the gateway's new_message shape, with the time the load generator reads", () => {
  const now = 1_764_000_000_123.456;
  const frame = newMessageFrame('bench-1-x-0', 'b1_sender', 'b1_7', now);
  assert.deepEqual(JSON.parse(frame), { type: 'new_message', message: { id: 'bench-1-x-0', from: 'b1_sender', to: 'b1_7', text: `t:${now.toFixed(3)}`, createdAt: new Date(now).toISOString() } });
  // The load generator's parse: the text after "text":" up to the next quote.
  const at = frame.indexOf('"text":"') + 8;
  assert.equal(Number(frame.slice(at, frame.indexOf('"', at)).slice(2)), Number(now.toFixed(3)));
  assert.ok(frame.startsWith('{"type":"new_message","message":{'));
});

test('ready frames and token users (read, not verified)', () => {
  assert.deepEqual(JSON.parse(readyFrame({ id: 'u1', username: 'al' })), { type: 'ready', user: { id: 'u1', username: 'al' } });
  const payload = Buffer.from(JSON.stringify({ sub: 'u1', username: 'al', iss: 'chat-auth' })).toString('base64url');
  assert.deepEqual(tokenUser(`h.${payload}.sig`), { id: 'u1', username: 'al' });
  assert.equal(tokenUser('nonsense'), undefined);
  assert.equal(tokenUser(`h.${Buffer.from('{"sub":1}').toString('base64url')}.s`), undefined);
  assert.equal(tokenOf('a=1&token=abc.def.ghi'), 'abc.def.ghi');
  assert.equal(tokenOf('a=1'), undefined);
});

test('push commands are checked', () => {
  assert.deepEqual(parsePushCommand('{"rate":5000,"durationMs":1000,"pairs":[["a","b"]]}'), { rate: 5000, durationMs: 1000, pairs: [['a', 'b']] });
  assert.throws(() => parsePushCommand('{"rate":0,"durationMs":1000,"pairs":[["a","b"]]}'), /rate/);
  assert.throws(() => parsePushCommand('{"rate":10,"durationMs":1000,"pairs":[]}'), /pairs/);
  assert.throws(() => parsePushCommand('{"rate":10,"pairs":[["a","b"]]}'), /durationMs/);
});

test('the push loop sends what is due, round-robin over the pairs, to every socket of the target', async () => {
  const got: Array<[string, string]> = [];
  const sockets: Record<string, number> = { b: 2, c: 2 };
  const r = await pushLoop({ rate: 1_000, durationMs: 50, pairs: [['a', 'b'], ['a', 'c'], ['a', 'nobody']] }, (frame, to) => {
    got.push([to, (JSON.parse(frame) as { message: { id: string } }).message.id]);
    return sockets[to] ?? 0;
  });
  assert.equal(r.sent, got.length);
  assert.ok(r.sent >= 40 && r.sent <= 52, `about 50 events in 50 ms at 1,000/s, got ${r.sent}`);
  assert.deepEqual(got.slice(0, 4).map(([to]) => to), ['b', 'c', 'nobody', 'b']);
  assert.equal(new Set(got.map(([, id]) => id)).size, got.length);
  assert.equal(r.unrouted, got.filter(([to]) => to === 'nobody').length);
  assert.equal(r.framesSent, 2 * (r.sent - r.unrouted));
});
