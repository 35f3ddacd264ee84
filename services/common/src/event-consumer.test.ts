import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumeMessage } from 'amqplib';
import { AckWindow } from './event-consumer.js';

const msg = (deliveryTag: number) => ({ fields: { deliveryTag } }) as ConsumeMessage;

test('in-order finishes are acked up to the newest, once', () => {
  const w = new AckWindow();
  const [a, b, c] = [msg(1), msg(2), msg(3)];
  for (const m of [a, b, c]) w.taken(m);
  w.finished(a);
  w.finished(b);
  assert.equal(w.ackable(), b);
  assert.equal(w.ackable(), undefined, 'nothing new');
  assert.equal(w.outstanding, 1);
  w.finished(c);
  assert.equal(w.ackable(), c);
  assert.equal(w.outstanding, 0);
});

test('a delivery that finishes late holds the ack of every later one (multiple acks all below it)', () => {
  const w = new AckWindow();
  const m = [msg(5), msg(6), msg(7), msg(8)];
  for (const x of m) w.taken(x);
  w.finished(m[1]!);
  w.finished(m[2]!);
  assert.equal(w.ackable(), undefined, 'tag 5 is not done: nothing may be acked');
  w.finished(m[0]!);
  assert.equal(w.ackable(), m[2], 'then 5, 6 and 7 at once');
  w.finished(m[3]!);
  assert.equal(w.ackable(), m[3]);
  assert.equal(w.outstanding, 0);
});
