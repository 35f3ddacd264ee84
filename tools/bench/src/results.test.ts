import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderMarkdown, writeJson, type BenchResults } from './results.js';

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
