/**
 * bitnami readme-generator style documentation check: every value in values.yaml is covered by
 * a `## @param <path>` comment (on the value itself or on an ancestor object documented as a
 * whole), and every @param names a value that exists.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ParamCoverage {
  undocumented: string[];
  stale: string[];
  params: string[];
}

function leafPaths(value: unknown, prefix: string, out: string[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) leafPaths(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push(prefix);
  }
}

function allPaths(value: unknown, prefix: string, out: Set<string>): void {
  if (prefix) out.add(prefix);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) allPaths(v, prefix ? `${prefix}.${k}` : k, out);
  }
}

export function paramCoverage(valuesPath: string): ParamCoverage {
  const text = readFileSync(valuesPath, 'utf8');
  const values = parse(text) as unknown;
  const params = [...text.matchAll(/^\s*##\s*@param\s+(\S+)/gm)].map((m) => m[1]!);
  const documented = new Set(params);
  const leaves: string[] = [];
  leafPaths(values, '', leaves);
  const undocumented = leaves.filter((leaf) => {
    const parts = leaf.split('.');
    for (let n = parts.length; n > 0; n--) if (documented.has(parts.slice(0, n).join('.'))) return false;
    return true;
  });
  const existing = new Set<string>();
  allPaths(values, '', existing);
  const stale = params.filter((p) => !existing.has(p));
  return { undocumented, stale, params };
}
