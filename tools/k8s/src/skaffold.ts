/**
 * Checks of skaffold.yaml against the chart. skaffold's binary and JSON schemas cannot be
 * obtained from the package registries this repository uses, so the file is parsed and the
 * parts that must agree with the chart are compared.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, ROOT, SERVICE_PORTS, SERVICES, SERVICES_DOCKERFILE, serviceBuildArgs, SKAFFOLD_FILE, WEB } from './paths.ts';

export interface SkaffoldRelease {
  name: string;
  chartPath?: string;
  remoteChart?: string;
  version?: string;
  namespace?: string;
  setValues?: Record<string, unknown>;
  setValueTemplates?: Record<string, string>;
  [key: string]: unknown;
}

export interface SkaffoldConfig {
  apiVersion: string;
  kind: string;
  build?: { artifacts?: Array<{ image: string; context?: string; docker?: { dockerfile?: string; buildArgs?: Record<string, unknown> } }>; local?: Record<string, unknown> };
  deploy?: { helm?: { releases?: SkaffoldRelease[] } };
  portForward?: Array<{ resourceType: string; resourceName: string; namespace?: string; port: number | string; localPort?: number }>;
  profiles?: Array<{ name: string; activation?: unknown[]; patches?: Array<{ op: string; path: string; value?: unknown }>; build?: unknown }>;
}

export const SUPPORTED_API_VERSIONS = ['skaffold/v4beta13', 'skaffold/v4beta14'];

export function loadSkaffold(path: string = SKAFFOLD_FILE): SkaffoldConfig {
  return parse(readFileSync(path, 'utf8')) as SkaffoldConfig;
}

/** skaffold's template variable suffix of an artifact: `/` and `-` (and `.`) become `_`. */
export function templateName(image: string): string {
  return image.replace(/[/.-]/g, '_');
}

export function chartValues(): Record<string, any> {
  return parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, any>;
}

/**
 * Every image skaffold builds: the chart component it feeds, its Dockerfile with the build args
 * it takes (the services share one, which SERVICE and PORT turn into each service's image), and
 * its local port.
 */
export const IMAGES: Array<{ component: string; image: string; dockerfile: string; buildArgs: Record<string, string>; localPort: number }> = [
  ...SERVICES.map((s) => ({ component: s, image: `chat-${s}`, dockerfile: SERVICES_DOCKERFILE, buildArgs: serviceBuildArgs(s), localPort: SERVICE_PORTS[s] })),
  { component: WEB.component, image: WEB.image, dockerfile: WEB.dockerfile, buildArgs: {}, localPort: WEB.port },
];

/** Build args as skaffold passes them: every value a string (a YAML number would be a type error). */
function sameBuildArgs(got: Record<string, unknown>, want: Record<string, string>): boolean {
  const keys = Object.keys(want);
  return Object.keys(got).length === keys.length && keys.every((k) => got[k] === want[k]);
}

/** The value at a dotted path with optional list indexes (`cors.allowedOrigins[0]`). */
function valueAt(values: unknown, key: string): unknown {
  let cur: any = values;
  for (const part of key.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    cur = cur === undefined || cur === null ? undefined : cur[m[1]!];
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) {
      // helm --set grows lists, so any index into an existing list is a valid key.
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(idx[1])] ?? '';
    }
  }
  return cur;
}

/** The release that installs our chart (chartPath pointing at charts/chat). */
export function chatRelease(cfg: SkaffoldConfig): SkaffoldRelease | undefined {
  return cfg.deploy?.helm?.releases?.find((r) => r.chartPath !== undefined && r.chartPath.replace(/\/$/, '') === 'charts/chat');
}

/** Every problem found; empty when skaffold.yaml and the chart agree. */
export function skaffoldProblems(cfg: SkaffoldConfig = loadSkaffold()): string[] {
  const problems: string[] = [];
  if (!SUPPORTED_API_VERSIONS.includes(cfg.apiVersion)) problems.push(`apiVersion ${cfg.apiVersion} is not one of ${SUPPORTED_API_VERSIONS.join(', ')}`);
  if (cfg.kind !== 'Config') problems.push(`kind must be Config, got ${cfg.kind}`);

  // --- artifacts
  const artifacts = cfg.build?.artifacts ?? [];
  const wantImages = IMAGES.map((i) => i.image);
  for (const want of IMAGES) {
    const a = artifacts.find((x) => x.image === want.image);
    if (!a) {
      problems.push(`no build artifact ${want.image}`);
      continue;
    }
    const dockerfile = a.docker?.dockerfile ?? 'Dockerfile';
    const context = a.context ?? '.';
    if (context !== '.') problems.push(`artifact ${want.image}: context must be the repository root (the pnpm workspace), got ${context}`);
    if (dockerfile !== want.dockerfile) problems.push(`artifact ${want.image}: dockerfile ${dockerfile}, want ${want.dockerfile}`);
    const buildArgs = a.docker?.buildArgs ?? {};
    if (!sameBuildArgs(buildArgs, want.buildArgs)) problems.push(`artifact ${want.image}: docker.buildArgs ${JSON.stringify(buildArgs)}, want ${JSON.stringify(want.buildArgs)} (strings)`);
    if (!existsSync(join(ROOT, context, dockerfile))) problems.push(`artifact ${want.image}: ${dockerfile} does not exist`);
  }
  for (const a of artifacts) if (!wantImages.includes(a.image)) problems.push(`unexpected artifact ${a.image}`);

  // --- our release
  const releases = cfg.deploy?.helm?.releases ?? [];
  const chat = chatRelease(cfg);
  if (!chat) {
    problems.push('no deploy.helm release with chartPath charts/chat');
    return problems;
  }
  if (!existsSync(join(ROOT, chat.chartPath!, 'Chart.yaml'))) problems.push(`chartPath ${chat.chartPath} has no Chart.yaml`);
  const templates = chat.setValueTemplates ?? {};
  const artifactVars = new Set(artifacts.map((a) => templateName(a.image)));
  for (const { component: s, image } of IMAGES) {
    const v = templateName(image);
    const repo = templates[`${s}.image.repository`];
    const tag = templates[`${s}.image.tag`];
    if (repo !== `{{.IMAGE_REPO_${v}}}`) problems.push(`setValueTemplates["${s}.image.repository"] must be "{{.IMAGE_REPO_${v}}}", got ${JSON.stringify(repo)}`);
    if (tag !== `{{.IMAGE_TAG_${v}}}`) problems.push(`setValueTemplates["${s}.image.tag"] must be "{{.IMAGE_TAG_${v}}}", got ${JSON.stringify(tag)}`);
  }
  // every IMAGE_* variable used must belong to an artifact (a typo renders "<no value>")
  for (const [key, tpl] of Object.entries(templates)) {
    for (const m of String(tpl).matchAll(/\.IMAGE_(?:REPO|TAG|DIGEST|NAME|FULLY_QUALIFIED|DOMAIN|REPO_NO_DOMAIN)_([A-Za-z0-9_]+)/g)) {
      if (!artifactVars.has(m[1]!)) problems.push(`setValueTemplates["${key}"] uses ${m[0]}, but no artifact is named like ${m[1]} (have ${[...artifactVars].join(', ')})`);
    }
  }
  // chart keys set by skaffold must exist in values.yaml (the schema rejects unknown ones)
  const values = chartValues();
  for (const key of [...Object.keys(templates), ...Object.keys(chat.setValues ?? {})]) {
    if (valueAt(values, key) === undefined) problems.push(`release ${chat.name} sets ${key}, which values.yaml does not define`);
  }

  // --- MongoDB / RabbitMQ releases must be where the chart's defaults point
  const ns = chat.namespace ?? 'default';
  const deps: Array<{ chart: string; host: string; secret: string }> = [
    { chart: 'mongodb', host: values.mongodb.host, secret: values.mongodb.auth.existingSecret },
    { chart: 'rabbitmq', host: values.rabbitmq.host, secret: values.rabbitmq.auth.existingSecret },
  ];
  for (const d of deps) {
    const rel = releases.find((r) => r.remoteChart?.endsWith(`/${d.chart}`));
    if (!rel) {
      problems.push(`no release installs the ${d.chart} chart`);
      continue;
    }
    // a Bitnami release whose name contains the chart name is named <release> (Service and Secret)
    if (rel.name !== d.host) problems.push(`${d.chart} release is named ${rel.name}, but the chart's default ${d.chart}.host is ${d.host}`);
    if (rel.name !== d.secret) problems.push(`${d.chart} release is named ${rel.name}, but the chart reads the password from Secret ${d.secret}`);
    if ((rel.namespace ?? 'default') !== ns) problems.push(`${d.chart} release is in namespace ${rel.namespace}, the chat release in ${ns}: secretKeyRef and short host names need the same namespace`);
    if (!rel.remoteChart!.startsWith('oci://registry-1.docker.io/bitnamicharts/')) problems.push(`${d.chart}: remoteChart should be oci://registry-1.docker.io/bitnamicharts/${d.chart}`);
    if (!rel.version || !/^\d+\.\d+\.\d+$/.test(String(rel.version))) problems.push(`${d.chart}: version must be pinned to an exact x.y.z, got ${JSON.stringify(rel.version)}`);
    const sv = rel.setValues ?? {};
    if (sv['global.security.allowInsecureImages'] !== true) problems.push(`${d.chart}: global.security.allowInsecureImages must be true (bitnamilegacy images)`);
    if (sv['image.repository'] !== `bitnamilegacy/${d.chart}`) problems.push(`${d.chart}: image.repository must be bitnamilegacy/${d.chart}`);
    for (const [k, v] of Object.entries(sv)) {
      if (k.endsWith('image.repository') && !String(v).startsWith('bitnamilegacy/')) problems.push(`${d.chart}: ${k}=${v} is not a bitnamilegacy image`);
    }
    const idx = releases.indexOf(rel);
    if (idx > releases.indexOf(chat)) problems.push(`${d.chart} release must come before the chat release (releases deploy in order)`);
  }
  if (values.mongodb.auth.existingSecretPasswordKey !== 'mongodb-root-password' || values.mongodb.auth.username !== 'root') {
    problems.push('the chart defaults no longer match the Bitnami MongoDB root credentials skaffold sets');
  }
  if (values.rabbitmq.auth.existingSecretPasswordKey !== 'rabbitmq-password') problems.push('rabbitmq.auth.existingSecretPasswordKey is not the Bitnami key rabbitmq-password');
  const rabbitUser = releases.find((r) => r.remoteChart?.endsWith('/rabbitmq'))?.setValues?.['auth.username'];
  if (rabbitUser !== undefined && rabbitUser !== values.rabbitmq.auth.username) problems.push(`rabbitmq auth.username ${rabbitUser} differs from the chart's rabbitmq.auth.username ${values.rabbitmq.auth.username}`);

  // --- port forwards: one per component, to the Service the chart names <release>-<component>
  const fullname = chat.name.includes('chat') ? chat.name : `${chat.name}-chat`;
  for (const { component: s, localPort } of IMAGES) {
    const pf = (cfg.portForward ?? []).find((p) => p.resourceName === `${fullname}-${s}`);
    if (!pf) {
      problems.push(`no portForward for service ${fullname}-${s}`);
      continue;
    }
    if (pf.resourceType !== 'service') problems.push(`portForward ${pf.resourceName}: resourceType should be service`);
    if (Number(pf.port) !== values[s].service.port) problems.push(`portForward ${pf.resourceName}: port ${pf.port}, the chart's Service port is ${values[s].service.port}`);
    if (pf.localPort !== localPort) problems.push(`portForward ${pf.resourceName}: localPort ${pf.localPort}, want ${localPort}`);
    if ((pf.namespace ?? 'default') !== ns) problems.push(`portForward ${pf.resourceName}: namespace ${pf.namespace}, release namespace ${ns}`);
  }

  // --- the web page in development: deployed, and its forwarded origin allowed by the services
  const sv = chat.setValues ?? {};
  if (sv['web.enabled'] !== true) problems.push(`release ${chat.name} must set web.enabled: true (the chat-web image is built for it)`);
  const origins = Object.entries(sv).filter(([k]) => /^cors\.allowedOrigins\[\d+\]$/.test(k)).map(([, v]) => String(v));
  for (const want of [`http://127.0.0.1:${WEB.port}`, `http://localhost:${WEB.port}`]) {
    if (!origins.includes(want)) problems.push(`release ${chat.name}: cors.allowedOrigins lacks ${want}, the forwarded web page's origin (the browser would block its calls)`);
  }
  // The page's defaults point at the forwarded services; a change on one side must follow the other.
  const urls = values.web?.publicUrls ?? {};
  for (const [component, scheme] of [['auth', 'http'], ['chat', 'http'], ['gateway', 'ws']] as const) {
    const want = `${scheme}://127.0.0.1:${SERVICE_PORTS[component]}`;
    if (sv[`web.publicUrls.${component}`] === undefined && urls[component] !== want) problems.push(`web.publicUrls.${component} defaults to ${urls[component]}, but the port-forward serves ${want}`);
  }

  // --- profiles
  for (const name of ['kind', 'minikube']) {
    const p = (cfg.profiles ?? []).find((x) => x.name === name);
    if (!p) {
      problems.push(`no ${name} profile`);
      continue;
    }
    const noPush = (p.patches ?? []).some((x) => x.path === '/build/local/push' && x.value === false);
    if (!noPush) problems.push(`profile ${name} must set build.local.push: false`);
  }
  return problems;
}
