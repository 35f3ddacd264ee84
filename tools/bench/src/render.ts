/**
 * Re-renders BENCHMARKS.md from a stored run, with the scenarios of partial runs merged in:
 *   node --import tsx tools/bench/src/render.ts tools/bench/results/<date>.json [tools/bench/results/<date>-group.json …]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from '@chat/testkit';
import { mergePartial, renderMarkdown, type BenchResults } from './results.js';
import { throughputRatioCause } from './scenarios/delivery.js';
import { rejudgeStored } from './scenarios/gateway-cpu-plan.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: render.ts tools/bench/results/<date>.json [<partial run>.json …]');
  process.exit(2);
}
const root = repoRoot();
let results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
for (const partial of process.argv.slice(3)) results = mergePartial(results, JSON.parse(readFileSync(partial, 'utf8')) as BenchResults, relative(root, resolve(partial)));
// Stored goals judged by today's rules (issue 15: RSS ≤ 1.2 KB, no verdict on a machine-bound ratio);
// the uWS-vs-ws cause line is derived from the stored steps, so it gets the current wording too.
const cores = results.machine.cores;
results.goals = rejudgeStored(results.goals, results.scenarios, cores, (a, b) => throughputRatioCause(a, b, cores));
writeFileSync(join(root, 'BENCHMARKS.md'), renderMarkdown(results, relative(root, resolve(file))));
console.log(`BENCHMARKS.md rendered from ${[file, ...process.argv.slice(3)].join(' + ')}`);
