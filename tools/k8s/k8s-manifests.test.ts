/**
 * The files under k8s/: the namespace and dashboard ConfigMap are valid Kubernetes objects,
 * the kind cluster matches the skaffold profile, and the kube-prometheus-stack values load the
 * dashboard ConfigMap and select the chart's ServiceMonitor.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseManifests } from './src/helm.ts';
import { DASHBOARD_CONFIGMAP, ROOT } from './src/paths.ts';
import { loadSkaffold } from './src/skaffold.ts';
import { validateAll } from './src/validate.ts';

const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

describe('k8s/', () => {
  it('namespace.yaml and the dashboard ConfigMap are valid objects', async () => {
    const objects = [...parseManifests(read('k8s/namespace.yaml')), ...parseManifests(readFileSync(DASHBOARD_CONFIGMAP, 'utf8'))];
    const results = await validateAll(objects);
    assert.deepEqual(results.filter((r) => r.status !== 'valid'), []);
    const ns = objects.find((o) => o.kind === 'Namespace')!;
    const chat = loadSkaffold().deploy!.helm!.releases!.find((r) => r.name === 'chat')!;
    assert.equal(ns.metadata.name, chat.namespace, 'the namespace skaffold deploys into');
  });

  it('kind-cluster.yaml names the cluster whose context activates the kind profile', () => {
    const cluster = parse(read('k8s/kind-cluster.yaml'));
    assert.equal(cluster.kind, 'Cluster');
    assert.equal(cluster.apiVersion, 'kind.x-k8s.io/v1alpha4');
    const profile = loadSkaffold().profiles!.find((p) => p.name === 'kind')!;
    assert.deepEqual(profile.activation, [{ kubeContext: `kind-${cluster.name}` }]);
  });

  it('kube-prometheus-stack values load the dashboard ConfigMap and every ServiceMonitor', () => {
    const v = parse(read('k8s/monitoring/kube-prometheus-stack-values.yaml'));
    const [cm] = parseManifests(readFileSync(DASHBOARD_CONFIGMAP, 'utf8'));
    const sidecar = v.grafana.sidecar.dashboards;
    assert.equal(sidecar.enabled, true);
    assert.equal(cm!.metadata.labels![sidecar.label], sidecar.labelValue);
    assert.equal(sidecar.label, 'grafana_dashboard');
    assert.equal(v.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues, false);
  });
});
