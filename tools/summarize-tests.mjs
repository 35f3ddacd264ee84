// Adds up the node:test summaries of every package in a `pnpm -r test` log and prints one
// closing line, "N passed, N failed, N skipped". Exits non-zero when any test failed or when
// no test ran at all (a run that executes nothing is a failure, not a pass).
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2] ?? '.test-output.log', 'utf8');
const sum = (key) => [...log.matchAll(new RegExp(`# ${key} (\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
const passed = sum('pass');
const failed = sum('fail') + sum('cancelled');
const skipped = sum('skipped') + sum('todo');
const packages = [...log.matchAll(/# tests (\d+)/g)].length;
// A test that skips for want of a tool says why in a `# <kind>-skip: <reason>` line (node:test
// prints it as `# \# browser-skip: …`); the reason goes just above the closing line, which
// CI parses and which therefore keeps its exact format.
const skipReasons = new Set([...log.matchAll(/\b(browser|conformance)-skip:[ \t]*(.+)$/gm)].map((m) => `${m[1]} tests — ${m[2].trim()}`));
console.log(`\n${packages} test runs`);
for (const reason of skipReasons) console.log(`skipped: ${reason}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exit(1);
