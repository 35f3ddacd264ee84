import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SendRecord } from '../loadgen/protocol.ts';
import { judgeRun, overloadGoals, overloadPhases, perSecond, phaseFigures, recoveryTime, type OverloadResult } from './overload-plan.ts';

/** `count` requests spread evenly over [fromMs, fromMs + spanMs), each getting `status` after `latency` ms. */
function spread(fromMs: number, spanMs: number, count: number, status: number, latency: number | ((i: number) => number)): SendRecord[] {
  return Array.from({ length: count }, (_, i) => [fromMs + (i * spanMs) / count, typeof latency === 'function' ? latency(i) : latency, status] as SendRecord);
}

test('overloadPhases: factor × then share × the sustainable rate, whole requests per second', () => {
  assert.deepEqual(overloadPhases(301, { factor: 3, overloadSeconds: 20, recoveryShare: 0.5, recoverySeconds: 10 }), [
    { rate: 903, durationMs: 20_000 },
    { rate: 151, durationMs: 10_000 },
  ]);
  assert.deepEqual(overloadPhases(0.2, { factor: 3, overloadSeconds: 1, recoveryShare: 0.5, recoverySeconds: 1 }).map((p) => p.rate), [1, 1]);
});

test('phaseFigures: goodput, shed share, answers within the bound, failures by kind', () => {
  const records = [
    ...spread(0, 1_000, 80, 201, 50),
    ...spread(0, 1_000, 16, 503, 2),
    [500, 1_500, 201] as SendRecord, // a 201 too late for the bound
    [600, 5_000, 0] as SendRecord, // the client's timeout
    [700, 3, 500] as SendRecord,
    [800, 0, -1] as SendRecord, // skipped at the client's cap
    ...spread(1_000, 1_000, 10, 201, 10), // the next phase
  ];
  const f = phaseFigures(records, 0, 1_000, 100);
  assert.equal(f.attempted, 100);
  assert.equal(f.ok, 81);
  assert.equal(f.shed, 16);
  assert.equal(f.shedShare, 0.16);
  assert.deepEqual(f.failed, { no_answer: 1, http_500: 1, client_skipped: 1 });
  assert.equal(f.answeredWithinBound, 96);
  assert.equal(f.answeredWithinShare, 0.96);
  // Goodput counts 201s answered within [0, 1 s): not the late one (2,000 ms), nor the 4 sent in
  // the last 50 ms (answered after 1 s).
  assert.equal(f.okPerSec, 76);
  assert.equal(f.slowestMs, 5_000);
  assert.equal(f.okMaxMs, 1_500);
  assert.equal(f.shedMaxMs, 2);
  // The next phase counts the 4 201s of the phase before that landed in it (the late one came at
  // 2,000 ms, the end of its span: outside it).
  const next = phaseFigures(records, 1_000, 2_000, 10);
  assert.equal(next.attempted, 10);
  assert.equal(next.okPerSec, 14);
});

test('perSecond and recoveryTime: the end of the last second that missed the bar after the drop', () => {
  const records = [
    ...spread(0, 2_000, 300, 201, 400), // overload: slow 201s…
    ...spread(0, 2_000, 300, 503, 1), // …and sheds
    ...spread(2_000, 1_000, 50, 201, 300), // the first second after the drop: still slow
    ...spread(3_000, 1_000, 49, 201, 20),
    [3_500, 1, 503] as SendRecord, // one shed in the second second
    ...spread(4_000, 2_000, 100, 201, 20), // then clean
  ];
  const seconds = perSecond(records, 6_000, 100);
  assert.deepEqual(seconds.map((s) => s.meets), [false, false, false, false, true, true]);
  assert.deepEqual(seconds.map((s) => s.sent), [300, 300, 50, 50, 50, 50]);
  assert.equal(seconds[3]!.shed, 1);
  assert.equal(recoveryTime(seconds, 2), 2);
  // Clean from the drop on: 0 s.
  assert.equal(recoveryTime(perSecond([...spread(0, 2_000, 10, 503, 1), ...spread(2_000, 2_000, 20, 201, 5)], 4_000, 100), 2), 0);
  // Still missing in the last second: not recovered.
  assert.equal(recoveryTime(perSecond([...spread(2_000, 2_000, 20, 201, 500)], 4_000, 100), 2), null);
  // A second with no 201 at all does not meet the bar (nothing to judge a p99 on).
  assert.equal(perSecond([[2_100, 0, 0]], 3_000, 100)[2]!.meets, false);
});

function run(records: SendRecord[], sustained = 100): OverloadResult {
  const r: OverloadResult = {
    ramp: { steps: [], sustainedRate: sustained, p99BoundMs: 100, stepSeconds: 5 },
    users: 10,
    conversations: 5,
    phases: overloadPhases(sustained, { factor: 3, overloadSeconds: 2, recoveryShare: 0.5, recoverySeconds: 3 }),
    seconds: [],
    recoverySeconds: null,
    admissionEnv: {},
    notes: [],
    elapsedSeconds: 0,
  };
  judgeRun(r, records);
  return r;
}

test('overloadGoals: met when goodput holds, every answer is fast and the system comes back', () => {
  const records = [
    ...spread(0, 2_000, 190, 201, 10),
    ...spread(0, 2_000, 410, 503, 3),
    ...spread(2_000, 3_000, 150, 201, (i) => (i < 40 ? 150 : 15)),
  ];
  const r = run(records);
  assert.equal(r.goodputRatio, 0.95);
  assert.equal(r.recoverySeconds, 1);
  r.admissionShed = { wait_budget: 400, queue_full: 10 };
  const goals = overloadGoals(r);
  assert.deepEqual(goals.map((g) => [g.id, g.met, g.label]), [
    ['overload-goodput', true, undefined],
    ['overload-answered', true, undefined],
    ['overload-recovery', true, undefined],
    ['overload-p99', null, 'figure'],
    ['overload-shed', null, 'figure'],
  ]);
  assert.match(goals[0]!.value, /^0\.95× \(95 vs 100\/s, offered 300\/s\)/);
  assert.match(goals[4]!.value, /^68\.3 % \(410 of 600\); by chat's reason: wait_budget 400, queue_full 10/);
});

test('overloadGoals: missed on a collapse, on timeouts and 500s, and when the last second still sheds', () => {
  const records = [
    ...spread(0, 2_000, 100, 201, 900),
    ...spread(0, 2_000, 400, 0, 5_000),
    ...spread(0, 2_000, 100, 500, 5),
    ...spread(2_000, 3_000, 100, 201, 400),
    ...spread(2_000, 3_000, 50, 503, 2),
  ];
  const r = run(records);
  r.clientErrors = { timeout: 400 };
  r.listenOverflows = 120;
  const goals = overloadGoals(r);
  assert.deepEqual(goals.slice(0, 3).map((g) => g.met), [false, false, false]);
  assert.match(goals[1]!.cause!, /failed with 400 × timeout at the client \(whole run\)\. The kernel dropped 120 connections at a full accept queue/);
  assert.match(goals[1]!.value, /^16\.7 % \(100 of 600; slowest 5000 ms; besides 201 and 503: 400 × no answer \(timeout or network error\), 100 × HTTP 500\)/);
  assert.match(goals[2]!.value, /^not within 3 s/);
  assert.match(goals[0]!.cause!, /Chat exports no chat_admission_shed_total/);
});

test('overloadGoals: not measured without a sustainable rate, or without a run', () => {
  const r = run([], 0);
  r.ramp.steps = [{ targetRate: 25 } as OverloadResult['ramp']['steps'][number]];
  for (const g of overloadGoals(r)) {
    assert.equal(g.met, null);
    assert.match(g.cause!, /no ramp step was sustained \(the first, 25\/s, was not\)/);
  }
  for (const g of overloadGoals(undefined, 'BENCH_ONLY=group')) assert.equal(g.cause, 'BENCH_ONLY=group');
});
