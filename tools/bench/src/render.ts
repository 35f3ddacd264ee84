/**
 * Re-renders BENCHMARKS.md from a stored run:
 *   node --import tsx tools/bench/src/render.ts tools/bench/results/<date>.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from '@chat/testkit';
import { renderMarkdown, type BenchResults } from './results.js';
import { throughputRatioCause } from './scenarios/delivery.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: render.ts tools/bench/results/<date>.json');
  process.exit(2);
}
const root = repoRoot();
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
// The uWS-vs-ws cause line is derived from the stored steps: refresh it with the current wording.
const { ours, ws } = results.scenarios.delivery ?? {};
const ratioGoal = results.goals.find((g) => g.id === 'uws-vs-ws-throughput');
if (ratioGoal && ratioGoal.met === false && ours && ws) ratioGoal.cause = throughputRatioCause(ours, ws);
writeFileSync(join(root, 'BENCHMARKS.md'), renderMarkdown(results, relative(root, resolve(file))));
console.log(`BENCHMARKS.md rendered from ${file}`);
