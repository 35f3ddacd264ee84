import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatabaseOutage, DatabaseUnavailableError, type OutageClock } from './mongo-outage.js';
import { isDatabaseOutage } from './mongo-client.js';

/** A clock whose timers fire only when the test advances it. */
function manualClock(): OutageClock & { advance(ms: number): Promise<void>; pending(): number } {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => (timers.set(++nextId, { at: now + ms, fn }), nextId),
    clearTimeout: (h) => void timers.delete(h as number),
    pending: () => timers.size,
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await new Promise((r) => setImmediate(r)); // let the probe's promise settle
      }
      now = end;
    },
  };
}

function outageWith(probeResults: boolean[]) {
  const clock = manualClock();
  const changes: boolean[] = [];
  let probes = 0;
  const outage = new DatabaseOutage({
    probe: async () => {
      const ok = probeResults[probes++] ?? true;
      if (!ok) throw new Error('no server');
    },
    probeIntervalMs: 250,
    clock,
    onChange: (down) => changes.push(down),
  });
  return { outage, clock, changes, probes: () => probes };
}

test('up until an outage is marked; work is then refused at once with an error classified as an outage', () => {
  const { outage, changes } = outageWith([]);
  assert.equal(outage.down, false);
  outage.assertReachable();
  outage.markDown(new Error('server selection timed out'));
  assert.equal(outage.down, true);
  assert.deepEqual(changes, [true]);
  assert.throws(() => outage.assertReachable(), (err: unknown) => err instanceof DatabaseUnavailableError && isDatabaseOutage(err));
});

test('later failures during the same outage change nothing (one change, one probe loop)', async () => {
  const { outage, clock, changes } = outageWith([false, false]);
  outage.markDown(new Error('a'));
  outage.markDown(new Error('b'));
  assert.deepEqual(changes, [true]);
  assert.equal(clock.pending(), 1, 'one probe scheduled');
});

test('probes every interval while it fails; the first probe that answers ends the outage', async () => {
  const { outage, clock, changes, probes } = outageWith([false, false, true]);
  outage.markDown(new Error('down'));
  await clock.advance(249);
  assert.equal(probes(), 0, 'no probe before the interval');
  await clock.advance(1);
  assert.equal(probes(), 1);
  assert.equal(outage.down, true);
  await clock.advance(250);
  assert.equal(probes(), 2);
  assert.equal(outage.down, true);
  assert.equal(outage.downForMs, 500);
  await clock.advance(250);
  assert.equal(probes(), 3);
  assert.equal(outage.down, false);
  assert.equal(outage.downForMs, 0);
  assert.deepEqual(changes, [true, false]);
  assert.equal(clock.pending(), 0, 'no probe once the database answers');
  outage.assertReachable();
});

test('a new outage after recovery is detected again', async () => {
  const { outage, clock, changes } = outageWith([true, true]);
  outage.markDown(new Error('first'));
  await clock.advance(250);
  assert.equal(outage.down, false);
  outage.markDown(new Error('second'));
  assert.equal(outage.down, true);
  await clock.advance(250);
  assert.deepEqual(changes, [true, false, true, false]);
});

test('a probe slower than the interval is never doubled', async () => {
  const clock = manualClock();
  let inFlight = 0;
  let most = 0;
  let release: (() => void) | undefined;
  const outage = new DatabaseOutage({
    probe: () => {
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise<void>((_, reject) => (release = () => (inFlight--, reject(new Error('timeout')))));
    },
    probeIntervalMs: 250,
    clock,
  });
  outage.markDown(new Error('down'));
  await clock.advance(250);
  outage.markDown(new Error('again'));
  await clock.advance(2_000);
  assert.equal(most, 1);
  release!();
  await new Promise((r) => setImmediate(r));
  assert.equal(clock.pending(), 1, 'the next probe is scheduled after the slow one failed');
});

test('Retry-After is whole seconds, at least 1; stop() ends probing', async () => {
  const { outage, clock } = outageWith([false]);
  assert.equal(outage.retryAfterSeconds, 1);
  assert.equal(new DatabaseOutage({ probe: async () => undefined, probeIntervalMs: 2_500 }).retryAfterSeconds, 3);
  outage.markDown(new Error('down'));
  outage.stop();
  assert.equal(clock.pending(), 0);
  await clock.advance(1_000);
  assert.equal(outage.down, true, 'the state stays as it was');
});

test('a ping answered elsewhere (the readiness check) ends the outage at once and stops the probes', async () => {
  const { outage, clock, changes, probes } = outageWith([false, false, false]);
  outage.markDown(new Error('no server'));
  await clock.advance(250);
  assert.equal(probes(), 1);
  outage.answered();
  assert.equal(outage.down, false);
  outage.assertReachable();
  assert.deepEqual(changes, [true, false]);
  await clock.advance(2_000);
  assert.equal(probes(), 1, 'no probe after the outage ended');
  assert.equal(clock.pending(), 0);
  outage.answered(); // with no outage: nothing changes
  assert.deepEqual(changes, [true, false]);
});
