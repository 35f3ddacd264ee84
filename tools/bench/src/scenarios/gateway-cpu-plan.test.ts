import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CapacityResult } from './capacity.js';
import type { DeliveryResult, DeliveryStep } from './delivery-result.js';
import { capacityFigure, compareRates, cpuStep, gatewayCpuGoals, idleSocketCost, judgedRate, machineBound, rejudgeStored, rssGoal, throughputGoal, wsRatioCause, type CpuRun, type CpuServer, type GatewayCpuResult } from './gateway-cpu-plan.js';

function step(rate: number, o: Partial<DeliveryStep> & { gateway?: number; machine?: number } = {}): DeliveryStep {
  const frames = o.frames ?? rate * 2 * 10;
  return {
    targetRate: rate,
    injected: rate * 10,
    injectedPerSec: rate,
    injectorLimited: false,
    frames,
    expectedFrames: o.expectedFrames ?? rate * 2 * 10,
    deliveredPerSec: o.deliveredPerSec ?? rate,
    framesPerSec: rate * 2,
    p50Ms: 1,
    p99Ms: o.p99Ms ?? 10,
    maxMs: 20,
    closedByServer: 0,
    cpu: { gateway: o.gateway ?? 0.3, loadgenReceivers: 0.2, loadgenReceiverMax: 0.1, loadgenSource: 0.1, broker: 0.2, others: {}, machine: o.machine ?? 1 },
    gatewayRssMiB: 100,
    loadgenLimited: false,
    pass: o.pass ?? true,
    window: { fromUs: 0, toUs: 10_000_000 },
  };
}

const run = (server: CpuServer, usAt: Record<number, number>, profiled = false): CpuRun => ({
  server,
  profiled,
  socketsOpen: 10_000,
  // µs per frame → CPU seconds over the step's frames.
  steps: Object.entries(usAt).map(([rate, us]) => cpuStep(server, profiled, step(Number(rate)), (us * Number(rate) * 2 * 10) / 1e6)),
});

test('CPU per frame is the CPU seconds over the frames delivered (at most those expected)', () => {
  const s = cpuStep('ours', false, step(5_000), 2.3);
  assert.equal(s.frames, 100_000);
  assert.equal(s.cpuUsPerFrame, 23);
  assert.equal(s.complete, true);
  const extra = cpuStep('ours', false, step(5_000, { frames: 100_010 }), 2.3);
  assert.equal(extra.cpuUsPerFrame, 23);
  const short = cpuStep('ours', false, step(5_000, { frames: 50_000 }), 2.3);
  assert.equal(short.cpuUsPerFrame, 46);
  assert.equal(short.complete, false);
  assert.equal(cpuStep('ours', false, step(5_000, { frames: 0 }), 1).cpuUsPerFrame, undefined);
});

const runs = [run('ours', { 2_500: 25, 5_000: 23, 10_000: 20 }), run('ws', { 2_500: 26, 5_000: 24.5, 10_000: 22 }), run('raw-uws', { 2_500: 8, 5_000: 7.3, 10_000: 7 }), run('raw-ws', { 2_500: 12, 5_000: 11.4, 10_000: 11 }), run('ours', { 5_000: 30 }, true)];

test('rates compare the unprofiled passes; the goals are judged at the preferred rate', () => {
  const c = compareRates(runs, [2_500, 5_000, 10_000]);
  const at5k = c.find((x) => x.rate === 5_000)!;
  assert.equal(at5k.us.ours, 23);
  assert.equal(at5k.oursOverRawUws, 3.151);
  assert.equal(at5k.oursOverWs, 0.939);
  assert.equal(at5k.rawWsOverRawUws, 1.562);
  assert.equal(judgedRate(c, 5_000), 5_000);
  const result: GatewayCpuResult = { sockets: 10_000, targets: 500, framesPerEvent: 2, stepSeconds: 10, rates: [2_500, 5_000, 10_000], preferredRate: 5_000, judgedRate: 5_000, runs, comparisons: c, notes: [], elapsedSeconds: 200, cause: 'send 58%' };
  const goals = gatewayCpuGoals(result, undefined);
  assert.deepEqual(goals.map((g) => [g.id, g.met]), [['cpu-per-frame-vs-raw-uws', false], ['cpu-per-frame-vs-ws', false], ['events-per-core', null]]);
  assert.match(goals[0]!.value, /^3\.15× \(ours 23\.0 µs vs raw uWS 7\.3 µs per frame at 5,000 events\/s/);
  assert.equal(goals[0]!.cause, 'send 58%');
  const met = gatewayCpuGoals({ ...result, comparisons: compareRates([run('ours', { 5_000: 14 }), run('ws', { 5_000: 24.5 }), run('raw-uws', { 5_000: 7.3 })], [5_000]) }, undefined);
  assert.deepEqual(met.slice(0, 2).map((g) => [g.met, g.cause]), [[true, undefined], [true, undefined]]);
});

test('an incomplete step is not compared; the judged rate falls back to the highest complete one', () => {
  const lossy = runs.map((r) => (r.server === 'ours' && !r.profiled ? { ...r, steps: r.steps.map((s) => (s.step.targetRate === 5_000 ? cpuStep('ours', false, step(5_000, { frames: 10 }), 1) : s)) } : r));
  const c = compareRates(lossy, [2_500, 5_000, 10_000]);
  assert.equal(c.find((x) => x.rate === 5_000)!.us.ours, undefined);
  assert.equal(judgedRate(c, 5_000), 10_000);
  assert.equal(judgedRate(compareRates([run('ours', { 5_000: 1 })], [5_000]), 5_000), undefined);
  const none = gatewayCpuGoals({ sockets: 1, targets: 1, framesPerEvent: 2, stepSeconds: 1, rates: [5_000], preferredRate: 5_000, runs: [], comparisons: [], notes: ['raw uWS push: budget spent'], elapsedSeconds: 1 }, undefined);
  assert.equal(none[0]!.met, null);
  assert.match(none[0]!.cause!, /no rate at which.*budget spent/);
  assert.equal(gatewayCpuGoals(undefined, 'BENCH_ONLY=group')[1]!.cause, 'BENCH_ONLY=group');
});

test("events/s per core: scenario 3's best step when the run has one, else scenario 11's best passing step of ours", () => {
  const s3 = { best: step(15_000, { gateway: 0.46, deliveredPerSec: 14_996 }) } as DeliveryResult;
  const fromS3 = capacityFigure(s3, runs)!;
  assert.equal(fromS3.eventsPerCore, Math.round(14_996 / 0.46));
  assert.match(fromS3.source, /scenario 3/);
  const alone = capacityFigure(undefined, [{ ...runs[0]!, steps: [cpuStep('ours', false, step(5_000, { gateway: 0.25 }), 1), cpuStep('ours', false, step(10_000, { gateway: 0.4 }), 2), cpuStep('ours', false, step(20_000, { gateway: 0.9, pass: false }), 4)] }])!;
  assert.equal(alone.eventsPerCore, 25_000);
  assert.match(alone.source, /scenario 11/);
  assert.equal(capacityFigure(undefined, []), undefined);
});

test('a throughput ratio is machine-bound when neither gateway saturated its core and the machine was busy', () => {
  const cause = () => 'see profiles';
  const d = (s: DeliveryStep, bestRate: number) => ({ bestRate, firstFail: s }) as DeliveryResult;
  assert.equal(machineBound([step(20_000, { gateway: 0.55, machine: 1.95 }), step(20_000, { gateway: 0.6, machine: 1.83 })], 2), true);
  assert.equal(machineBound([step(20_000, { gateway: 0.55, machine: 1.68 }), step(20_000, { gateway: 0.6, machine: 1.83 })], 2), false);
  assert.equal(machineBound([step(20_000, { gateway: 0.95, machine: 1.95 }), step(20_000, { gateway: 0.6, machine: 1.95 })], 2), false);
  assert.equal(machineBound([step(1, {}), undefined], 2), false);
  const bound = throughputGoal(d(step(20_000, { gateway: 0.55, machine: 1.95 }), 15_000), d(step(20_000, { gateway: 0.6, machine: 1.9 }), 15_000), 2, cause);
  assert.deepEqual([bound.met, bound.label, bound.cause], [null, 'machine-bound', 'see profiles']);
  assert.match(bound.value, /1\.00× \(15000 vs 15000 events\/s\); machine-bound/);
  const judged = throughputGoal(d(step(20_000, { gateway: 0.95, machine: 1.95 }), 10_000), d(step(20_000, { gateway: 0.6, machine: 1.5 }), 12_500), 2, cause);
  assert.deepEqual([judged.met, judged.label], [false, undefined]);
  assert.equal(throughputGoal(undefined, undefined, 2, cause).met, null);
});

test("RSS per idle socket is judged at issue 15's 1.2 KB, and stored goals are judged again by today's rules", () => {
  const cap = (b: number) => ({ rssBytesPerSocket: b, heapBytesPerSocket: 990, maxSockets: 19_000 }) as CapacityResult;
  assert.equal(rssGoal(cap(1_228), '').met, true);
  assert.equal(rssGoal(cap(2_031), '').met, false);
  assert.equal(rssGoal(cap(2_031), '').target, '≤ 1.2 KB');
  assert.match(rssGoal(cap(2_031), '').cause!, /990 B is V8 heap/);
  const stored = [
    { id: 'rss-per-socket', scenario: 5, what: 'Gateway RSS per idle socket', target: '≤ 2 KB', value: '1.98 KB', met: true },
    { id: 'uws-vs-ws-throughput', scenario: 6, what: 'uWS vs ws delivery throughput', target: '≥ 1.3×', value: '1.00×', met: false },
    { id: 'other', scenario: 2, what: 'x', target: 'y', value: 'z', met: true },
  ];
  const again = rejudgeStored(stored, { capacity: { ours: cap(2_031) }, delivery: { ours: { bestRate: 15_000, firstFail: step(20_000, { gateway: 0.55, machine: 1.95 }) } as DeliveryResult, ws: { bestRate: 15_000, firstFail: step(20_000, { gateway: 0.6, machine: 1.92 }) } as DeliveryResult } }, 2, () => 'c');
  assert.deepEqual(again.map((g) => [g.id, g.met, g.label]), [['rss-per-socket', false, undefined], ['uws-vs-ws-throughput', null, 'machine-bound'], ['other', true, undefined]]);
  assert.deepEqual(rejudgeStored(stored, {}, 2, () => 'c'), stored);
});

test('with readings after a forced GC, the RSS goal is judged on them', () => {
  const c = { rssBytesPerSocket: 1_905, heapBytesPerSocket: 943, collectedRssBytesPerSocket: 560, collectedHeapBytesPerSocket: 410, maxSockets: 19_000 } as CapacityResult;
  assert.deepEqual(idleSocketCost(c), { rss: 560, heap: 410, reading: 'collected' });
  const g = rssGoal(c, '');
  assert.equal(g.met, true);
  assert.equal(g.value, '0.55 KB after a full GC over 19,000 sockets (V8 heap 0.40 KB of it)');
  const over = rssGoal({ ...c, collectedRssBytesPerSocket: 1_300 }, '');
  assert.equal(over.met, false);
  assert.match(over.cause!, /1300 B\/socket RSS \(collected\), of which 410 B is V8 heap/);
  // A run without an inspector is judged as before, on the reading as left.
  assert.deepEqual(idleSocketCost({ ...c, collectedRssBytesPerSocket: undefined }), { rss: 1_905, heap: 943, reading: 'as left' });
});

test('a missed ours ÷ ws ratio names the libraries\' own ratio in the same run first, then the profile', () => {
  const cause = wsRatioCause({ us: { ours: 12.4, ws: 17, 'raw-uws': 8.9, 'raw-ws': 11.1 } }, 'profile: send 68%');
  assert.match(cause, /raw uWS ÷ raw ws per frame at the same rate in this run, are 0\.80× \(8\.9 vs 11\.1 µs\)/);
  assert.match(cause, /profile: send 68%$/);
  assert.equal(wsRatioCause({ us: {} }, 'p'), 'p');
});
