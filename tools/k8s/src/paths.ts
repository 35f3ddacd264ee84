import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tools/k8s/src -> ../../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART_DIR = join(ROOT, 'charts', 'chat');
export const PRODUCTION_VALUES = join(CHART_DIR, 'ci', 'production-values.yaml');
export const SKAFFOLD_FILE = join(ROOT, 'skaffold.yaml');
export const DASHBOARD_JSON = join(ROOT, 'k8s', 'monitoring', 'chat-dashboard.json');
export const DASHBOARD_CONFIGMAP = join(ROOT, 'k8s', 'monitoring', 'chat-dashboard-configmap.yaml');
export const BIN = join(ROOT, 'tools', 'bin');
export const HELM = join(BIN, 'helm');
export const HELM_UNITTEST = join(BIN, 'helm-unittest');
export const HADOLINT = join(BIN, 'hadolint');
export const SERVICES = ['auth', 'chat', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** Ports of the service contract. */
export const SERVICE_PORTS: Record<ServiceName, number> = { auth: 5001, chat: 5002, gateway: 5003 };
/** The one Dockerfile of the three service images, and the build args that pick the service. */
export const SERVICES_DOCKERFILE = 'services/Dockerfile';
export function serviceBuildArgs(svc: ServiceName): { SERVICE: string; PORT: string } {
  return { SERVICE: svc, PORT: String(SERVICE_PORTS[svc]) };
}
/** The optional web client (clients/web): its image, chart component and port. */
export const WEB = { image: 'chat-web', component: 'web', port: 5000, dockerfile: 'clients/web/Dockerfile' } as const;
/** The Kubernetes version the chart is linted and rendered for. */
export const KUBE_VERSION = '1.31.0';

export function requireTool(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`bash tools/k8s/install-tools.sh\` (make k8s-tools) first`);
  }
  return path;
}
