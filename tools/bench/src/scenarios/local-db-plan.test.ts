import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conversationPlan, localDbGoals, RampPlan, seedMessage, sustainedRate, type LocalDbResult } from './local-db-plan.js';
import type { RampStep } from './send-run.js';

test('conversationPlan: no self-conversation, no duplicate, about peersPerUser peers each, deterministic', () => {
  const plan = conversationPlan(1_000, 10);
  const keys = new Set(plan.pairs.map(([a, b]) => `${a}:${b}`));
  assert.equal(keys.size, plan.pairs.length);
  for (const [a, b] of plan.pairs) assert.ok(a < b);
  const degrees = plan.peers.map((p) => p.length);
  const mean = degrees.reduce((x, y) => x + y, 0) / degrees.length;
  assert.ok(mean > 9 && mean <= 10, String(mean));
  assert.ok(Math.min(...degrees) >= 5);
  assert.deepEqual(conversationPlan(1_000, 10).pairs.slice(0, 20), plan.pairs.slice(0, 20));
});

test('seedMessage: every conversation grows evenly, both directions, texts of 8 to 160 characters', () => {
  const plan = conversationPlan(50, 6);
  const perPair = new Map<string, { ab: number; ba: number }>();
  for (let i = 0; i < plan.pairs.length * 10; i++) {
    const m = seedMessage(plan, i);
    assert.notEqual(m.from, m.to);
    assert.ok(m.text.length >= 8 && m.text.length <= 160, m.text);
    assert.ok(m.text.trim().length > 0);
    const key = `${Math.min(m.from, m.to)}:${Math.max(m.from, m.to)}`;
    const c = perPair.get(key) ?? { ab: 0, ba: 0 };
    if (m.from < m.to) c.ab++;
    else c.ba++;
    perPair.set(key, c);
  }
  assert.equal(perPair.size, plan.pairs.length);
  for (const c of perPair.values()) {
    assert.equal(c.ab + c.ba, 10);
    assert.ok(c.ab >= 3 && c.ba >= 3, JSON.stringify(c));
  }
  assert.deepEqual(seedMessage(plan, 7), seedMessage(plan, 7));
});

function drive(plan: RampPlan, limit: number, flaky = new Set<number>()): number[] {
  const tried: number[] = [];
  for (let r = plan.next(); r !== undefined && tried.length < 50; r = plan.next()) {
    tried.push(r);
    const first = !tried.slice(0, -1).includes(r);
    plan.record(r, r <= limit && !(first && flaky.has(r)));
  }
  return tried;
}

test('RampPlan: coarse steps, a second try of a failure, then bisection between good and bad', () => {
  assert.deepEqual(drive(new RampPlan([100, 200, 400, 800], 2), 300), [100, 200, 400, 400, 283, 336, 336]);
  // A step that fails once through noise is tried again and the ramp goes on.
  assert.deepEqual(drive(new RampPlan([100, 200, 400], 0), 1_000, new Set([200])), [100, 200, 200, 400]);
  // Nothing sustained: the first rate, twice, and the plan ends.
  assert.deepEqual(drive(new RampPlan([100, 200], 3), 50), [100, 100]);
  assert.deepEqual(drive(new RampPlan([100, 200], 3, false), 50), [100]);
});

test('sustainedRate is the best achieved rate of a sustained step', () => {
  const s = (okPerSec: number, sustainable: boolean) => ({ okPerSec, sustainable }) as Pick<RampStep, 'okPerSec' | 'sustainable'>;
  assert.equal(sustainedRate([s(99, true), s(198, true), s(300, false)]), 198);
  assert.equal(sustainedRate([s(10, false)]), 0);
});

function result(over: Partial<LocalDbResult> = {}): LocalDbResult {
  const step = (okPerSec: number, sustainable: boolean) => ({ okPerSec, sustainable }) as RampStep;
  return {
    targetStored: 100_000,
    users: 1_000,
    peersPerUser: 10,
    conversations: 5_000,
    seed: { ours: { stored: 100_000, seconds: 200, perSec: 500, concurrency: 32, errors: {}, budgetSeconds: 360 }, origin: { stored: 100_000, seconds: 20, perSec: 5_000, batch: 1_000 } },
    p99BoundMs: 50,
    stepSeconds: 6,
    ramp: { ours: { steps: [step(400, true), step(500, false)], sustainedRate: 400 }, origin: { steps: [step(200, true), step(300, false)], sustainedRate: 200 } },
    sync: { requests: 300, errors: 0, concurrency: 2, p50Ms: 3, p99Ms: 12, maxMs: 30 },
    history: { requests: 300, errors: 0, concurrency: 2, p50Ms: 3, p99Ms: 25, maxMs: 40 },
    roundTrips: { notMeasured: 'chat does not expose chat_db_round_trips_per_request' },
    dbCpuAtRest: { cores: 0.005, waitedSeconds: 5, windowSeconds: 10 },
    causes: { 'local-db-reads-p99': 'history: find 60%' },
    notes: [],
    elapsedSeconds: 600,
    ...over,
  };
}

test('localDbGoals: verdicts and causes of the five goals at the stated size', () => {
  const [send, ratio, reads, cpu, trips] = localDbGoals(result());
  assert.equal(send!.met, true);
  assert.equal(ratio!.met, true);
  assert.equal(ratio!.value, '2.00× (400 vs 200/s)');
  assert.equal(reads!.met, false);
  assert.equal(reads!.cause, 'history: find 60%');
  assert.equal(cpu!.met, true);
  assert.equal(cpu!.value, '0.50% of a core');
  assert.equal(trips!.met, null);
  assert.equal(trips!.cause, 'not measured: chat does not expose chat_db_round_trips_per_request');
  assert.ok(localDbGoals(undefined, 'budget spent').every((g) => g.met === null && g.cause === 'budget spent'));
});

test('localDbGoals: short of the stated size, only a miss is conclusive', () => {
  const r = result({ seed: { ours: { stored: 20_000, seconds: 360, perSec: 55.5, concurrency: 32, errors: {}, budgetSeconds: 360 }, origin: { stored: 20_000, seconds: 5, perSec: 4_000, batch: 1_000 } } });
  const [send, ratio, reads] = localDbGoals(r);
  assert.equal(send!.met, null);
  assert.match(send!.cause!, /only 20,000 of 100,000 .*\(55\.5\/s\)/);
  assert.equal(send!.value, '400/s at 20,000 stored');
  assert.equal(ratio!.met, null);
  assert.equal(reads!.met, false);
  const slow = localDbGoals({ ...r, ramp: { ...r.ramp, ours: { steps: r.ramp.ours.steps, sustainedRate: 100 } }, causes: { 'local-db-send-rate': 'insert 70%' } });
  assert.equal(slow[0]!.met, false);
  assert.equal(slow[0]!.cause, 'insert 70%');
  const trips = localDbGoals(result({ roundTrips: { sends: 200, mean: 4.5, maxLe: 5 }, causes: { 'local-db-round-trips': 'x' } }))[4]!;
  assert.equal(trips.met, false);
  assert.equal(trips.value, 'mean 4.50, max ≤ 5 over 200 sends');
});
