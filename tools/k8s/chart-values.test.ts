/**
 * Check (3, schema part) and chart hygiene: values.schema.json accepts the shipped value sets and
 * rejects wrong types and unknown keys (through helm itself); every value is documented with
 * `## @param`; render-time guards fail misconfigurations; `helm lint --strict` passes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { helm, helmTemplateRaw } from './src/helm.ts';
import { CHART_DIR, KUBE_VERSION, PRODUCTION_VALUES } from './src/paths.ts';
import { paramCoverage } from './src/values-docs.ts';

function expectRejected(set: Record<string, string>, pattern: RegExp): void {
  const res = helmTemplateRaw({ set });
  assert.notEqual(res.status, 0, `helm accepted ${JSON.stringify(set)}`);
  assert.match(res.stderr, pattern);
}

describe('values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'));

  it('forbids unknown top-level keys', () => {
    assert.equal(schema.additionalProperties, false);
    expectRejected({ replicaCount: '2' }, /additional properties 'replicaCount' not allowed/);
  });

  it('rejects wrong types', () => {
    expectRejected({ 'auth.replicaCount': 'two' }, /\/auth\/replicaCount.*want integer/);
    expectRejected({ 'gateway.autoscaling.enabled': 'maybe' }, /\/gateway\/autoscaling\/enabled.*want boolean/);
    expectRejected({ 'mongodb.port': '70000' }, /\/mongodb\/port/);
  });

  it('rejects values outside their enums and unknown nested keys', () => {
    expectRejected({ logLevel: 'verbose' }, /\/logLevel/);
    expectRejected({ 'auth.image.pullPolicy': 'Sometimes' }, /\/auth\/image\/pullPolicy/);
    expectRejected({ 'chat.replicas': '2' }, /additional properties 'replicas' not allowed/);
    expectRejected({ 'rabbitmq.scheme': 'http' }, /\/rabbitmq\/scheme/);
  });

  it('accepts the default and the production-like values', () => {
    assert.equal(helmTemplateRaw({}).status, 0);
    assert.equal(helmTemplateRaw({ valuesFiles: [PRODUCTION_VALUES] }).status, 0);
  });
});

describe('render-time guards', () => {
  it('fails when terminationGracePeriodSeconds does not exceed preStop sleep + drain', () => {
    expectRejected(
      { 'gateway.terminationGracePeriodSeconds': '15', 'gateway.preStopSleepSeconds': '5', 'gateway.drainSeconds': '10' },
      /gateway.terminationGracePeriodSeconds \(15\) must be greater than .*\(15\)/,
    );
  });

  it('fails when an HPA has no metric', () => {
    expectRejected(
      { 'chat.autoscaling.enabled': 'true', 'chat.autoscaling.targetCPUUtilizationPercentage': 'null' },
      /chat.autoscaling.enabled needs at least one metric/,
    );
  });
});

describe('values.yaml documentation', () => {
  it('documents every value with ## @param and has no stale @param', () => {
    const { undocumented, stale, params } = paramCoverage(join(CHART_DIR, 'values.yaml'));
    assert.deepEqual(undocumented, [], `undocumented values: ${undocumented.join(', ')}`);
    assert.deepEqual(stale, [], `@param for values that do not exist: ${stale.join(', ')}`);
    assert.ok(params.length > 100);
  });
});

describe('helm lint --strict', () => {
  for (const [name, files] of [['default values', []], ['production values', [PRODUCTION_VALUES]]] as const) {
    it(name, () => {
      const args = ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART_DIR];
      for (const f of files) args.push('--values', f);
      const res = helm(args);
      assert.equal(res.status, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /0 chart\(s\) failed/);
    });
  }
});
