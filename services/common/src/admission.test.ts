import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission, AdmissionRefusedError, type AdmissionClock, type AdmissionShedReason } from './admission.js';

/** A clock driven by hand: `advance` runs the timers that fall due. */
function manualClock(): AdmissionClock & { advance(ms: number): void } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'admitted',
    (err: unknown) => (err instanceof AdmissionRefusedError ? err.reason : `other: ${String(err)}`),
  );

function admissionWith(opts: { maxInFlight: number; maxWaitMs: number; maxQueued?: number }) {
  const clock = manualClock();
  const shed: AdmissionShedReason[] = [];
  const waits: number[] = [];
  const admission = new Admission({ ...opts, clock, observer: { shed: (r) => shed.push(r), admitted: (w) => waits.push(w) } });
  return { admission, clock, shed, waits };
}

describe('Admission', () => {
  it('admits at once up to the bound, then queues, and hands a freed slot to the longest waiter', async () => {
    const { admission, clock, waits } = admissionWith({ maxInFlight: 2, maxWaitMs: 100 });
    const a = await admission.acquire();
    await admission.acquire();
    assert.equal(admission.inFlight, 2);
    const order: string[] = [];
    const third = admission.acquire().then((r) => (order.push('third'), r));
    const fourth = admission.acquire().then((r) => (order.push('fourth'), r));
    assert.equal(admission.queued, 2);
    assert.equal(admission.saturated, true);
    clock.advance(30);
    a();
    a(); // a second release of the same slot changes nothing
    await settle();
    assert.deepEqual(order, ['third']);
    assert.equal(admission.inFlight, 2);
    assert.equal(admission.queued, 1);
    (await third)();
    await settle();
    assert.deepEqual(order, ['third', 'fourth']);
    await fourth;
    assert.equal(admission.saturated, false);
    assert.deepEqual(waits, [0, 0, 30, 30]);
  });

  it('refuses a request that waited its whole budget, and never admits it later', async () => {
    const { admission, clock, shed } = admissionWith({ maxInFlight: 1, maxWaitMs: 100 });
    const first = await admission.acquire();
    const waiting = refusal(admission.acquire());
    clock.advance(99);
    await settle();
    assert.equal(admission.queued, 1);
    clock.advance(1);
    assert.equal(await waiting, 'wait_budget');
    assert.equal(admission.queued, 0);
    first();
    assert.equal(admission.inFlight, 0, 'the slot is free, not given to the refused request');
    assert.deepEqual(shed, ['wait_budget']);
  });

  it('refuses at arrival when the queue is full', async () => {
    const { admission, shed } = admissionWith({ maxInFlight: 1, maxWaitMs: 1_000, maxQueued: 2 });
    await admission.acquire();
    void admission.acquire().catch(() => undefined);
    void admission.acquire().catch(() => undefined);
    assert.equal(await refusal(admission.acquire()), 'queue_full');
    assert.deepEqual(shed, ['queue_full']);
  });

  it('refuses at arrival when the recent pace cannot serve the queue ahead within the budget', async () => {
    const { admission, clock } = admissionWith({ maxInFlight: 1, maxWaitMs: 100 });
    // Teach it a hold time of about 80 ms.
    for (let i = 0; i < 200; i++) {
      const release = await admission.acquire();
      clock.advance(80);
      release();
    }
    await admission.acquire();
    const one = refusal(admission.acquire()); // position 0: 80 ms ≤ 100, waits
    assert.equal(admission.queued, 1);
    assert.equal(await refusal(admission.acquire()), 'queue_full'); // position 1: 160 ms > 100
    clock.advance(100);
    assert.equal(await one, 'wait_budget');
  });

  it('drain refuses the queued and the new; abandonRunning ends the running with a refusal', async () => {
    const { admission, shed } = admissionWith({ maxInFlight: 1, maxWaitMs: 1_000 });
    const release = await admission.acquire();
    let finish!: (v: string) => void;
    const running = refusal(admission.track(new Promise<string>((r) => (finish = r))));
    const queued = refusal(admission.acquire());
    admission.drain();
    assert.equal(await queued, 'draining');
    assert.equal(await refusal(admission.acquire()), 'draining');
    assert.equal(await admission.idle(10), false);
    assert.equal(admission.abandonRunning(), 1);
    assert.equal(await running, 'draining');
    finish('late'); // the work's own end no longer matters
    release();
    assert.equal(await admission.idle(10), true);
    assert.deepEqual(shed, ['draining', 'draining', 'draining']);
  });

  it('track passes the work through, and its failure', async () => {
    const { admission } = admissionWith({ maxInFlight: 1, maxWaitMs: 0 });
    assert.equal(await admission.track(Promise.resolve(7)), 7);
    await assert.rejects(admission.track(Promise.reject(new Error('boom'))), /boom/);
    assert.equal(admission.abandonRunning(), 0, 'finished work is no longer tracked');
  });

  it('track with a deadline refuses work that outlives it, which goes on holding its slot; work that ends first is answered', async () => {
    const { admission, clock, shed } = admissionWith({ maxInFlight: 1, maxWaitMs: 0 });
    const release = await admission.acquire();
    let finish!: (v: string) => void;
    const slow = refusal(admission.track(new Promise<string>((r) => (finish = r)), 700));
    clock.advance(699);
    await settle();
    assert.deepEqual(shed, [], 'not before the deadline');
    clock.advance(1);
    assert.equal(await slow, 'deadline');
    assert.equal(admission.abandonRunning(), 0, 'a refused request is no longer tracked');
    assert.equal(admission.inFlight, 1, 'its slot is still held: the work goes on');
    finish('late');
    release();
    assert.equal(admission.inFlight, 0);

    const quick = admission.track(Promise.resolve('done'), 700);
    assert.equal(await quick, 'done');
    clock.advance(1_000);
    await settle();
    assert.deepEqual(shed, ['deadline'], 'the answered one is not refused later');
  });

  it('idle resolves when the last running request ends', async () => {
    const { admission } = admissionWith({ maxInFlight: 2, maxWaitMs: 0 });
    const a = await admission.acquire();
    const b = await admission.acquire();
    const idle = admission.idle(5_000);
    a();
    b();
    assert.equal(await idle, true);
  });
});
