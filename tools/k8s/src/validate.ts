/**
 * Validation of rendered manifests against Kubernetes' own OpenAPI-derived schemas, offline:
 * the npm package kubernetes-models (its version is pinned by pnpm-lock.yaml) ships a compiled
 * validator per API type. CRDs: the prometheus-operator ServiceMonitor is validated with
 * @kubernetes-models/prometheus-operator; any other kind is reported as unvalidated, with the
 * reason, never silently passed.
 *
 * The OpenAPI schemas do not forbid unknown fields (the API server does, with strict field
 * validation), so `unknownFieldErrors` adds that check with TypeScript's excess-property
 * check against the same package's type declarations.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { K8sObject } from './helm.ts';
import { ROOT } from './paths.ts';

export interface ValidationResult {
  object: string;
  status: 'valid' | 'invalid' | 'skipped';
  detail?: string;
}

/** Module that exports the model class of an apiVersion (core group: "v1"). */
function modelModule(apiVersion: string): { module: string; typesModule: (kind: string) => string } | undefined {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    const base = '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
    return { module: base, typesModule: (kind) => `${base}/${kind}` };
  }
  if (/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) && !apiVersion.includes('monitoring.coreos.com')) {
    const base = `kubernetes-models/${apiVersion}`;
    return { module: base, typesModule: (kind) => `${base}/${kind}` };
  }
  return undefined;
}

export function describe(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind} ${o.metadata?.name ?? '<unnamed>'}`;
}

export async function validateObject(o: K8sObject): Promise<ValidationResult> {
  const object = describe(o);
  const mod = modelModule(o.apiVersion);
  if (!mod) return { object, status: 'skipped', detail: `no schema package for apiVersion ${o.apiVersion}` };
  let exports: Record<string, unknown>;
  try {
    exports = (await import(mod.module)) as Record<string, unknown>;
  } catch {
    return { object, status: 'invalid', detail: `apiVersion ${o.apiVersion} is not a Kubernetes API group/version known to kubernetes-models` };
  }
  const Model = exports[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (typeof Model !== 'function') return { object, status: 'invalid', detail: `kind ${o.kind} does not exist in ${o.apiVersion}` };
  try {
    new Model(o).validate();
    return { object, status: 'valid' };
  } catch (err) {
    return { object, status: 'invalid', detail: (err as Error).message };
  }
}

export async function validateAll(objects: K8sObject[]): Promise<ValidationResult[]> {
  const out: ValidationResult[] = [];
  for (const o of objects) out.push(await validateObject(o));
  return out;
}

/**
 * Unknown-field check: writes each object as a typed object literal
 * (`const o: IDeployment = {...}`) and runs tsc, whose excess-property check rejects any
 * field the API type does not declare, at any depth. Returns tsc's diagnostics (empty when
 * every field is known). Objects without a types module are ignored (validateObject reports
 * them as skipped).
 */
export function unknownFieldErrors(objects: K8sObject[]): string[] {
  const requireFromHere = createRequire(import.meta.url);
  const tscJs = join(dirname(requireFromHere.resolve('typescript/package.json', { paths: [ROOT] })), 'bin', 'tsc');
  // Inside tools/k8s/node_modules (ignored by git) so the file resolves kubernetes-models.
  const cacheDir = join(ROOT, 'tools', 'k8s', 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const dir = mkdtempSync(join(cacheDir, 'k8s-typecheck-'));
  try {
    const lines: string[] = [];
    objects.forEach((o, i) => {
      const mod = modelModule(o.apiVersion);
      if (!mod) return;
      lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(mod.typesModule(o.kind))};`);
      lines.push(`// ${describe(o)}`);
      lines.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`);
    });
    writeFileSync(join(dir, 'manifests.ts'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
          noEmit: true, skipLibCheck: true, types: [],
        },
        files: ['manifests.ts'],
      }),
    );
    const res = spawnSync(process.execPath, [tscJs, '-p', dir], { encoding: 'utf8', cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    if (res.status === 0) return [];
    // Name the object each diagnostic is in: the nearest `// <object>` line above it.
    const source = lines.join('\n').split('\n');
    const errors = `${res.stdout}${res.stderr}`.split('\n').filter((l) => l.includes('error TS'));
    if (errors.length === 0) return [`tsc exited ${res.status}: ${res.stdout}${res.stderr}`];
    return errors.map((line) => {
      const m = /manifests\.ts\((\d+),\d+\)/.exec(line);
      let owner = '';
      for (let i = m ? Number(m[1]) - 1 : -1; i >= 0; i--) {
        if (source[i]?.startsWith('// ')) {
          owner = source[i]!.slice(3);
          break;
        }
      }
      return owner ? `${owner}: ${line.replace(/^.*error TS\d+: /, '')}` : line;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
