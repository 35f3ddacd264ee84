import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, HELM, KUBE_VERSION, requireTool } from './paths.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[], opts: { input?: string } = {}): HelmResult {
  const res = spawnSync(requireTool(HELM), args, { encoding: 'utf8', input: opts.input, maxBuffer: 64 * 1024 * 1024 });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: Record<string, string>;
  kubeVersion?: string;
  apiVersions?: string[];
}

function templateArgs(opts: TemplateOptions): string[] {
  const args = ['template', opts.release ?? 'chat', CHART_DIR, '--namespace', opts.namespace ?? 'chat', '--kube-version', opts.kubeVersion ?? KUBE_VERSION];
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set', `${k}=${v}`);
  for (const a of opts.apiVersions ?? []) args.push('--api-versions', a);
  return args;
}

/** `helm template`, returning the raw result (for tests that expect a failure). */
export function helmTemplateRaw(opts: TemplateOptions = {}): HelmResult {
  return helm(templateArgs(opts));
}

/** `helm template` parsed into objects; throws with helm's stderr on failure. */
export function helmTemplate(opts: TemplateOptions = {}): K8sObject[] {
  const res = helmTemplateRaw(opts);
  if (res.status !== 0) throw new Error(`helm template failed (${res.status}):\n${res.stderr}`);
  return parseManifests(res.stdout);
}

/** Every non-empty YAML document of a multi-document stream. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`YAML error: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    out.push(value as K8sObject);
  }
  return out;
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered; have: ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
