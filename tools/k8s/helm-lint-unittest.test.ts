// Checks 1 and 3 of the chart: `helm lint --strict` on both value sets and the helm-unittest
// suites, run here so they count in `make test` like every other test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CHART_DIR, HELM_UNITTEST, KUBE_VERSION, PRODUCTION_VALUES, requireTool } from './src/paths.ts';
import { helm } from './src/helm.ts';


for (const [name, extra] of [['default values', []], ['production-like values', ['--values', PRODUCTION_VALUES]]] as const) {
  test(`helm lint --strict passes on the ${name}`, () => {
    const res = helm(['lint', '--strict', '--kube-version', KUBE_VERSION, CHART_DIR, ...extra]);
    assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
}

test('the helm-unittest suites pass', () => {
  const res = spawnSync(requireTool(HELM_UNITTEST), [CHART_DIR], { encoding: 'utf8' });
  assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /Tests:\s+\d+ passed/);
  assert.doesNotMatch(res.stdout, /\d+ failed/);
});
