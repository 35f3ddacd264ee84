/**
 * Generates k8s/monitoring/chat-dashboard-configmap.yaml from k8s/monitoring/chat-dashboard.json
 * (the source of truth, which can be exported from Grafana as is).
 *
 *   node --import tsx tools/k8s/src/dashboard-configmap.ts          # check it is up to date
 *   node --import tsx tools/k8s/src/dashboard-configmap.ts --write  # regenerate
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { DASHBOARD_CONFIGMAP, DASHBOARD_JSON } from './paths.ts';

const HEADER = `# Generated from chat-dashboard.json by tools/k8s/src/dashboard-configmap.ts: do not edit.
# Grafana's dashboard sidecar (kube-prometheus-stack, see kube-prometheus-stack-values.yaml)
# loads every ConfigMap labelled grafana_dashboard: "1".
#   kubectl apply -f k8s/monitoring/chat-dashboard-configmap.yaml
`;

export function renderDashboardConfigMap(json: string = readFileSync(DASHBOARD_JSON, 'utf8')): string {
  JSON.parse(json); // must be valid JSON
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'chat-dashboard',
      namespace: 'monitoring',
      labels: { grafana_dashboard: '1', 'app.kubernetes.io/part-of': 'chat' },
      annotations: { grafana_folder: 'chat' },
    },
    data: { 'chat-dashboard.json': json },
  };
  return HEADER + stringify(cm, { lineWidth: 0, blockQuote: 'literal' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const want = renderDashboardConfigMap();
  if (process.argv.includes('--write')) {
    writeFileSync(DASHBOARD_CONFIGMAP, want);
    console.log(`wrote ${DASHBOARD_CONFIGMAP}`);
  } else {
    let have = '';
    try {
      have = readFileSync(DASHBOARD_CONFIGMAP, 'utf8');
    } catch {
      /* missing */
    }
    if (have !== want) {
      console.error(`${DASHBOARD_CONFIGMAP} is out of date: run with --write`);
      process.exit(1);
    }
    console.log('dashboard ConfigMap is up to date');
  }
}
