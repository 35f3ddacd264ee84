import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { benchmarkSources, mergePartial, renderMarkdown, writeJson, type BenchResults } from './results.js';
import type { RampStep } from './scenarios/e2e.js';
import { localDbGoals, type LocalDbResult } from './scenarios/local-db-plan.js';
import { judgeRun, overloadGoals, type OverloadResult } from './scenarios/overload-plan.js';
import type { SendRecord } from './loadgen/protocol.js';

function sample(): BenchResults {
  return {
    version: 1,
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:16:05.000Z',
    durationSeconds: 720,
    quick: false,
    command: 'make bench',
    machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 24, node: 'v20.20.2', kernel: '6.1', fdLimit: { soft: 20000, hard: 20000, note: 'hard 20000 cannot be raised here' }, loadAverageAtStart: [0.1, 0.2, 0.3] },
    infra: { mongo: 'local (FerretDB with SQLite)', amqp: "local (Debian's rabbitmq-server)" },
    setup: { users: 5000 },
    scenarios: {
      ceiling: { count: 100_000, batch: 1000, payloadBytes: 291, msgPerSec: 20_000, publishConfirmedPerSec: 21_000, elapsedMs: 5000 },
      publishPath: { msgPerSec: 15_000, count: 50_000 },
    },
    skipped: { 'scenario 7': 'budget spent' },
    goals: [
      { id: 'publish-path', scenario: 2, what: 'Chat confirmed publish path', target: '≥ 10,000 msg/s', value: '15,000 msg/s', met: true },
      { id: 'e2e-p99', scenario: 4, what: 'End-to-end 201→frame p99', target: '≤ 25 ms', value: '80 ms', met: false, cause: 'chat CPU-bound: jose 60%' },
      { id: 'rss-per-socket', scenario: 5, what: 'Gateway RSS per idle socket', target: '≤ 2 KB', value: '—', met: null, cause: 'budget spent' },
    ],
    profiles: [{ process: 'chat', window: 'scenario 4', cpuProfile: 'x.cpuprofile', top: 'verify (jose) 40.0%' }],
    notes: ['a note'],
  };
}

test('BENCHMARKS.md carries the command, the machine, each goal with its verdict, causes and ratios', () => {
  const md = renderMarkdown(sample(), 'tools/bench/results/2026-01-02T03-04-05Z.json');
  assert.match(md, /One run of `make bench`/);
  assert.match(md, /2 cores \(Test CPU\), 24 GiB, Node v20\.20\.2/);
  assert.match(md, /\| 2 \| Chat confirmed publish path \| ≥ 10,000 msg\/s \| 15,000 msg\/s \| \*\*met\*\* \|/);
  assert.match(md, /\| 4 \| End-to-end 201→frame p99 \| ≤ 25 ms \| 80 ms \| \*\*missed\*\* \|/);
  assert.match(md, /\| 5 \| Gateway RSS per idle socket .* \| not measured \|/);
  assert.match(md, /- \*\*End-to-end 201→frame p99:\*\* chat CPU-bound: jose 60%/);
  assert.match(md, /\*\*20,000 msg\/s\*\*/);
  assert.match(md, /0\.75× of ceiling/); // 15k / 20k in the same run
  assert.match(md, /- scenario 7: budget spent/);
  assert.match(md, /tools\/bench\/results\/2026-01-02T03-04-05Z\.json/);
});

test('the JSON written is the result, and parses back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  const path = join(dir, 'nested', 'r.json');
  writeJson(path, sample());
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), sample());
});

test('scenario 8 gets its own section: the five goals side by side, both ramps, the reads, the database at rest', () => {
  const cpu = { gateway: 0, loadgenReceivers: 0, loadgenReceiverMax: 0, loadgenSource: 0.1, broker: 0.02, others: { chat: 0.5, database: 0.9 }, machine: 1.6 };
  const step = (targetRate: number, okPerSec: number, sendP99Ms: number, sustainable: boolean, retry?: boolean) =>
    ({ targetRate, seconds: 6, attempted: 0, ok: 0, okPerSec, errors: {}, skipped: 0, sendP50Ms: 5, sendP99Ms, sendMaxMs: 90, cpu, loadgenLimited: false, window: { fromUs: 0, toUs: 1 }, sustainable, ...(retry ? { retry } : {}) }) as RampStep & { retry?: boolean };
  const localDb: LocalDbResult = {
    targetStored: 100_000,
    users: 1_000,
    peersPerUser: 10,
    conversations: 5_012,
    seed: { ours: { stored: 100_000, seconds: 250, perSec: 400, concurrency: 32, errors: {}, budgetSeconds: 480 }, origin: { stored: 100_000, seconds: 12, perSec: 8_000, batch: 1_000 } },
    p99BoundMs: 50,
    stepSeconds: 6,
    ramp: { ours: { steps: [step(225, 224, 20, true), step(340, 300, 400, false), step(340, 301, 300, false, true)], sustainedRate: 224 }, origin: { steps: [step(225, 224, 10, true)], sustainedRate: 224 } },
    sync: { requests: 300, errors: 0, concurrency: 2, p50Ms: 4, p99Ms: 9.5, maxMs: 20 },
    history: { requests: 300, errors: 0, concurrency: 2, p50Ms: 4, p99Ms: 12, maxMs: 25 },
    roundTrips: { notMeasured: 'chat does not expose chat_db_round_trips_per_request' },
    dbCpuAtRest: { cores: 0.128, byProcess: { ferretdb: 0.128 }, roots: [42], pidSource: 'infra state', waitedSeconds: 5, windowSeconds: 10 },
    causes: { 'local-db-send-rate': 'database insert 70%', 'local-db-ratio': 'same rate', 'local-db-cpu-at-rest': 'outbox scan' },
    notes: [],
    elapsedSeconds: 900,
  };
  const r = sample();
  r.scenarios.localDb = localDb;
  r.goals = [...r.goals, ...localDbGoals(localDb)];
  const md = renderMarkdown(r, 'x.json');
  assert.match(md, /## Local database \(scenario 8\)/);
  assert.match(md, /\| sustained sends\/s \(p99 ≤ 50 ms\) \| ≥ 300\/s at 100,000 stored \| 224\/s \| \*\*missed\*\* \(cause above\) \|/);
  assert.match(md, /\| ours ÷ origin sustained rate \| ≥ 1\.5× \| 1\.00× \(224 vs 224\/s\) \| \*\*missed\*\*/);
  assert.match(md, /\| database server CPU at rest \| < 2% of a core \| 12\.80% of a core \| \*\*missed\*\*/);
  assert.match(md, /\| database round trips per 1:1 send \(201\) \| ≤ 3 \| — \| not measured \(cause above\) \|/);
  assert.match(md, /- \*\*Local DB: database server CPU at rest:\*\* outbox scan/);
  assert.match(md, /\| ours \| 340 \| 301 \| 5\.00 ms \| 300 ms \| 0 \| 0 \| 0\.50 cores \| 0\.90 cores \| .* \| not sustained \(second try\) \|/);
  assert.match(md, /\| origin \| 225 \| 224 \|/);
  assert.match(md, /\| ours, GET \/chat\/sync \(first page\) \| 300 \| 2 \| 4\.00 ms \| 9\.50 ms \|/);
  assert.match(md, /Round trips per send.*not measured: chat does not expose chat_db_round_trips_per_request/);
});

test('a partial run replaces only its own scenario in BENCHMARKS.md, and names its run and JSON', () => {
  const base = sample();
  base.goals.push({ id: 'group-exactly-once', scenario: 9, what: 'Group: old', target: '0 lost, 0 duplicated', value: 'old', met: false });
  base.skipped['scenario 9'] = 'old reason';
  const partial = sample();
  partial.command = 'BENCH_ONLY=group make bench';
  partial.startedAt = '2026-01-03T00:00:00.000Z';
  partial.skipped = { 'scenarios 1–8': 'BENCH_ONLY=group' };
  partial.goals = [{ id: 'group-exactly-once', scenario: 9, what: 'Group: new', target: '0 lost, 0 duplicated', value: '0 lost', met: true }];
  partial.profiles = [{ process: 'chat-group', window: 'scenario 9, the timed window', cpuProfile: 'y.cpuprofile', top: 'x 1%' }];
  partial.scenarios = {};
  const merged = mergePartial(base, partial, 'tools/bench/results/2026-01-03T00-00-00Z-group.json');
  assert.deepEqual(merged.goals.map((g) => g.what), ['Chat confirmed publish path', 'End-to-end 201→frame p99', 'Gateway RSS per idle socket', 'Group: new']);
  assert.equal(merged.skipped['scenario 9'], undefined);
  assert.equal(merged.skipped['scenarios 1–8'], undefined);
  assert.equal(merged.skipped['scenario 7'], 'budget spent');
  assert.equal(merged.scenarios.ceiling?.msgPerSec, 20_000);
  assert.equal(merged.profiles.length, 2);
  const md = renderMarkdown(merged, 'tools/bench/results/2026-01-02T03-04-05Z.json');
  assert.match(md, /One run of `make bench`, 2026-01-02 03:04:05 UTC/);
  assert.match(md, /Scenario 9 comes from a separate run of `BENCH_ONLY=group make bench`, 2026-01-03 00:00:00 UTC/);
  assert.deepEqual(benchmarkSources(md), { base: 'tools/bench/results/2026-01-02T03-04-05Z.json', partials: ['tools/bench/results/2026-01-03T00-00-00Z-group.json'] });
  // Merging a newer run of the same scenario replaces the older one's source.
  const again = mergePartial(merged, partial, 'tools/bench/results/2026-01-04T00-00-00Z-group.json');
  assert.deepEqual(again.partials?.map((p) => p.json), ['tools/bench/results/2026-01-04T00-00-00Z-group.json']);
});

test('scenario 12 gets its row and section: goals, the ramp, both phases, every second; a partial run of it merges in', () => {
  const cpu = { gateway: 0, loadgenReceivers: 0, loadgenReceiverMax: 0, loadgenSource: 0.2, broker: 0.05, others: { chat: 0.8, database: 0.9 }, machine: 1.9 };
  const step = (targetRate: number, okPerSec: number, sustainable: boolean) =>
    ({ targetRate, seconds: 5, attempted: 0, ok: 0, okPerSec, errors: sustainable ? {} : { http_503: 12 }, skipped: 0, sendP50Ms: 5, sendP99Ms: sustainable ? 40 : 300, sendMaxMs: 90, cpu, loadgenLimited: false, window: { fromUs: 0, toUs: 1 }, sustainable }) as RampStep;
  const x: OverloadResult = {
    ramp: { steps: [step(100, 100, true), step(200, 180, false), step(200, 181, false), step(141, 141, true)], sustainedRate: 141, p99BoundMs: 100, stepSeconds: 5 },
    users: 200,
    conversations: 600,
    phases: [{ rate: 423, durationMs: 2_000 }, { rate: 71, durationMs: 2_000 }],
    seconds: [],
    recoverySeconds: null,
    admissionEnv: {},
    admissionShed: { wait_budget: 500, queue_full: 20, draining: 0 },
    admissionWait: { admitted: 300, meanMs: 120, maxLeMs: 250 },
    cpu: { overload: cpu, recovery: cpu },
    notes: [],
    elapsedSeconds: 150,
  };
  const records: SendRecord[] = [];
  for (let i = 0; i < 846; i++) records.push([(i * 2_000) / 846, i % 3 === 0 ? 180 : 2, i % 3 === 0 ? 201 : 503]);
  for (let i = 0; i < 142; i++) records.push([2_000 + (i * 2_000) / 142, i < 71 ? 150 : 12, 201]);
  judgeRun(x, records);
  const r = sample();
  r.scenarios = { overload: x };
  r.goals = overloadGoals(x);
  const md = renderMarkdown(r, 'tools/bench/results/2026-01-02T03-04-05Z.json');
  assert.match(md, /\| 12 \| Overload: 423\/s open loop for 2 s, then 71\/s for 2 s, on a chat with its default admission limits \| \*\*1\d\d × 201\/s\*\* of 423\/s offered \(sustainable: 141\/s\)/);
  assert.match(md, /## Overload \(scenario 12\)/);
  assert.match(md, /\| answers within 1 s at 3× \(201 or 503\) \| 100 % \| 100\.0 % \(846 of 846; slowest 180 ms; besides 201 and 503: nothing else\) \| \*\*met\*\* \|/);
  assert.match(md, /\| after the drop to ½×, until p99 ≤ 100 ms and nothing shed \| ≤ 10 s \| 1 s /);
  assert.match(md, /\| share shed \(503\) at 3× \| reported \(no target\) \| 66\.7 % \(564 of 846\); by chat's reason: wait_budget 500, queue_full 20, draining 0 \| \*\*figure\*\* \|/);
  assert.match(md, /\| 200 \| 180 \| .* \| 12 × http_503 \| .* \| not sustained \|/);
  assert.match(md, /\| overload \(2 s\) \| 423 \| 846 \| 282 \|/);
  assert.match(md, /\| 2–3 \| 71 \| 71 \| 71 \| 0 \| 0 \| 150 ms \| no \|/);
  assert.match(md, /\| 3–4 \| 71 \| 71 \| 71 \| 0 \| 0 \| 12\.\d ms \| yes \|/);
  assert.match(md, /`chat_admission_shed_total` wait_budget 500, queue_full 20, draining 0; `chat_admission_wait_seconds`: 300 requests admitted, mean wait 120 ms/);

  // BENCH_ONLY=overload BENCH_WRITE_MD=1: scenario 12 replaces only its own goals in a full run's page.
  const partial = { ...r, command: 'BENCH_ONLY=overload make bench', skipped: { 'scenarios 1–11': 'BENCH_ONLY=overload' } };
  const merged = mergePartial(sample(), partial, 'tools/bench/results/2026-01-03T00-00-00Z-overload.json');
  assert.deepEqual([...new Set(merged.goals.map((g) => g.scenario))], [2, 4, 5, 12]);
  assert.equal(merged.skipped['scenarios 1–11'], undefined);
  assert.match(renderMarkdown(merged, 'tools/bench/results/2026-01-02T03-04-05Z.json'), /Scenario 12 comes from a separate run of `BENCH_ONLY=overload make bench`/);
});
