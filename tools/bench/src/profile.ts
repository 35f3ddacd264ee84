/**
 * Reads V8 `.cpuprofile` files (written by `node --cpu-prof`) and summarizes a time window of
 * them: the top functions by self time, and the share of samples whose stack passes through a
 * category (JWT verification, database driver, …). The profile's timestamps are microseconds
 * of CLOCK_MONOTONIC, the same clock as `process.hrtime` in any process on the machine, so the
 * harness marks windows with `monoMicros()` and slices another process's profile with them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TimeWindow {
  fromUs: number;
  toUs: number;
}

/** Now, in the profile clock (µs of CLOCK_MONOTONIC). */
export function monoMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/**
 * Main-thread .cpuprofile files in a directory, oldest first. Node writes one file per thread
 * (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`); under `--import tsx` the module
 * loader runs on thread 1, whose profile is not the service's work.
 */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
      .map((f) => join(dir, f))
      .sort();
  } catch {
    return [];
  }
}

/** Sample counts per node id within the window (the whole profile when no window). */
function sampleCounts(p: CpuProfile, window?: TimeWindow): { counts: Map<number, number>; total: number } {
  const counts = new Map<number, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const id = p.samples[i]!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    total++;
  }
  return { counts, total };
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/work\/main\//, '')
    .replace(/^\/.*\/(services|tools)\//, '$1/');

export function frameLabel(f: CpuProfileNode['callFrame']): string {
  const name = f.functionName || '(anonymous)';
  return f.url ? `${name} (${shortUrl(f.url)}:${f.lineNumber + 1})` : name;
}

export interface SelfTimeEntry {
  label: string;
  /** Share of the window's samples, 0..1. */
  share: number;
}

/** Top functions by self time; `(idle)` is excluded from the denominator (it is not work). */
export function topSelfTime(p: CpuProfile, window?: TimeWindow, n = 8): { entries: SelfTimeEntry[]; busySamples: number; idleShare: number } {
  const { counts, total } = sampleCounts(p, window);
  const byLabel = new Map<string, number>();
  let idle = 0;
  const nodes = new Map(p.nodes.map((node) => [node.id, node]));
  for (const [id, c] of counts) {
    const node = nodes.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += c;
      continue;
    }
    const label = frameLabel(node.callFrame);
    byLabel.set(label, (byLabel.get(label) ?? 0) + c);
  }
  const busy = total - idle;
  const entries = [...byLabel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([label, c]) => ({ label, share: busy ? c / busy : 0 }));
  return { entries, busySamples: busy, idleShare: total ? idle / total : 0 };
}

export interface Category {
  name: string;
  /** Matches a frame of the stack (leaf first): the first category matched, nearest the leaf, wins. */
  match: (frame: CpuProfileNode['callFrame']) => boolean;
}

/** Share of busy samples whose stack passes through each category (nearest the leaf wins). */
export function categoryShares(p: CpuProfile, categories: Category[], window?: TimeWindow): { shares: Record<string, number>; busySamples: number } {
  const { counts } = sampleCounts(p, window);
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const nodes = new Map(p.nodes.map((node) => [node.id, node]));
  const memo = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    let cur: number | undefined = id;
    let found = 'other';
    while (cur !== undefined) {
      const frame = nodes.get(cur)?.callFrame;
      const hit = frame && categories.find((c) => c.match(frame));
      if (hit) {
        found = hit.name;
        break;
      }
      cur = parent.get(cur);
    }
    memo.set(id, found);
    return found;
  };
  const shares: Record<string, number> = {};
  let busy = 0;
  for (const [id, c] of counts) {
    const name = nodes.get(id)?.callFrame.functionName;
    if (name === '(idle)') continue;
    busy += c;
    const cat = name === '(garbage collector)' ? 'gc' : categoryOf(id);
    shares[cat] = (shares[cat] ?? 0) + c;
  }
  for (const k of Object.keys(shares)) shares[k] = busy ? shares[k]! / busy : 0;
  return { shares, busySamples: busy };
}

/** One line for BENCHMARKS.md: "fn (file:line) 23%, …". */
export function describeTop(entries: SelfTimeEntry[], n = 5): string {
  return entries
    .slice(0, n)
    .map((e) => `${e.label} ${(e.share * 100).toFixed(1)}%`)
    .join('; ');
}

/**
 * Functions accepted by `keep` (say, a service's own files), by the share of busy samples whose
 * stack holds them, each counted once per sample: what the work in a window was done for (the
 * outbox scan, the timeline query, …), where self time only names the driver's leaves.
 */
export function topInclusive(p: CpuProfile, window: TimeWindow | undefined, keep: (f: CpuProfileNode['callFrame']) => boolean, n = 5): SelfTimeEntry[] {
  const { counts } = sampleCounts(p, window);
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const nodes = new Map(p.nodes.map((node) => [node.id, node]));
  const byLabel = new Map<string, number>();
  let busy = 0;
  for (const [id, c] of counts) {
    if (nodes.get(id)?.callFrame.functionName === '(idle)') continue;
    busy += c;
    const labels = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = nodes.get(cur)?.callFrame;
      if (frame && keep(frame)) labels.add(frameLabel(frame));
    }
    for (const l of labels) byLabel.set(l, (byLabel.get(l) ?? 0) + c);
  }
  return [...byLabel.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([label, c]) => ({ label, share: busy ? c / busy : 0 }));
}

/**
 * Share of busy samples whose stack holds at least one frame accepted by `keep`, each sample
 * counted once: the CPU spent inside some code (a feature's files, say) including everything it
 * called, which a nearest-the-leaf category undercounts (its leaves are shared code).
 */
export function stackShare(p: CpuProfile, window: TimeWindow | undefined, keep: (f: CpuProfileNode['callFrame']) => boolean): { share: number; busySamples: number } {
  const { counts } = sampleCounts(p, window);
  const parent = new Map<number, number>();
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const nodes = new Map(p.nodes.map((node) => [node.id, node]));
  const memo = new Map<number, boolean>();
  const held = (id: number): boolean => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const frame = nodes.get(id)?.callFrame;
    const up = parent.get(id);
    const v = (frame !== undefined && keep(frame)) || (up !== undefined && held(up));
    memo.set(id, v);
    return v;
  };
  let busy = 0;
  let hit = 0;
  for (const [id, c] of counts) {
    if (nodes.get(id)?.callFrame.functionName === '(idle)') continue;
    busy += c;
    if (held(id)) hit += c;
  }
  return { share: busy ? hit / busy : 0, busySamples: busy };
}
