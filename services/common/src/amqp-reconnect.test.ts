import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReconnectSchedule } from './amqp-reconnect.js';

test('the delay doubles up to the cap, and a connection puts it back to the minimum', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const schedule = new ReconnectSchedule(100, 350);
  const waited: number[] = [];
  let attempts = 0;
  for (let i = 0; i < 4; i++) {
    waited.push(schedule.nextDelayMs);
    schedule.schedule(() => attempts++);
    t.mock.timers.tick(waited.at(-1)! - 1);
    assert.equal(attempts, i, 'not before its delay');
    t.mock.timers.tick(1);
    assert.equal(attempts, i + 1);
  }
  assert.deepEqual(waited, [100, 200, 350, 350]);
  schedule.connected();
  assert.equal(schedule.nextDelayMs, 100);
  schedule.schedule(() => attempts++);
  schedule.stop();
  t.mock.timers.tick(1_000);
  assert.equal(attempts, 4, 'a stopped schedule runs nothing');
});
